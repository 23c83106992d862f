"""Metrics: sacreBLEU BLEU and chrF (with signatures), WER/PER for G2P, speech recognition's
word and character error rates (`asr_wer`, `asr_cer`), ROUGE, perplexity; and
for forecasts of real values MASE, sMAPE, CRPS (of samples, or of a Gaussian) and interval
coverage.

WER/PER follow the G2P literature: a word is right if its 1-best equals any of its
references; PER = sum over words of the smallest edit distance to any reference, divided
by the sum of the lengths of those closest references. Scores are fractions (0.25 = 25%).

`asr_wer` / `asr_cer` are speech recognition's rates (jiwer): the word (character) edits
- substitutions, deletions, insertions - summed over the corpus, divided by the reference
words (characters, spaces included) summed over the corpus; they can exceed 1. Named apart
from G2P's `wer`, which is the share of wrong words (whole sentences). Both sides are first
normalised as the speech reader normalises transcripts (`normalize_transcript`, defined
here so that data/ and scoring share it), so a manifest's sentences as written can be the
references of `seq2seq evaluate`.

ROUGE-1/2/L F1 (Google's `rouge-score`, Porter stemmer, x 100) over several references per
sentence: a sentence's score is the mean of its F1 against each of its references (the
model average, as ROUGE-1.5.5's default `-f A`), and the corpus score the mean over
sentences. The best single reference per sentence (`*_max`) is reported beside it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import UserError


@dataclass(frozen=True)
class Metric:
    """A metric a run can select on (`train.metric`) and report."""

    higher_is_better: bool
    decoded: bool  # computed on translations (else from the dev loss alone)
    reported_as: str  # the decoded metric a run's test split is scored with


# The one metric table: config choices, the CLI's choices, the direction of "better", what a
# run's test evaluation reports.
METRICS = {
    "bleu": Metric(higher_is_better=True, decoded=True, reported_as="bleu"),
    "chrf": Metric(higher_is_better=True, decoded=True, reported_as="bleu"),
    "wer": Metric(higher_is_better=False, decoded=True, reported_as="wer"),
    "per": Metric(higher_is_better=False, decoded=True, reported_as="wer"),
    "asr_wer": Metric(higher_is_better=False, decoded=True, reported_as="asr_wer"),
    "asr_cer": Metric(higher_is_better=False, decoded=True, reported_as="asr_wer"),
    "rouge": Metric(higher_is_better=True, decoded=True, reported_as="rouge"),
    "loss": Metric(higher_is_better=False, decoded=False, reported_as="bleu"),
    "ppl": Metric(higher_is_better=False, decoded=False, reported_as="bleu"),
}
MetricName = Literal[tuple(METRICS)]  # the config's type for `train.metric`
DECODED_METRICS = [name for name, m in METRICS.items() if m.decoded]


def is_better(metric: str, new: float, old: float | None) -> bool:
    if old is None:
        return True
    return new > old if METRICS[metric].higher_is_better else new < old


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance between two token sequences."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def wer_per(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> dict[str, float]:
    """hyps[i]: space-separated 1-best; refs[i]: that source's reference pronunciations."""
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} reference sets")
    wrong, errors, length = 0, 0, 0
    for hyp, options in zip(hyps, refs):
        h = hyp.split()
        toks = [r.split() for r in options]
        wrong += not any(h == r for r in toks)
        dist, best = min((edit_distance(h, r), r) for r in toks)
        errors += dist
        length += len(best)
    return {"wer": wrong / max(1, len(hyps)), "per": errors / max(1, length)}


_NOT_KEPT = re.compile(r"[^\w' ]|_")  # keep word characters (letters, digits), ' and space
_LONE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")


def normalize_transcript(text: str) -> str:
    """A transcript as recognition scores it: NFKC, lower case, curly apostrophes straight,
    anything but letters, digits and apostrophes a space, apostrophes outside words dropped,
    spaces collapsed. "Don't STOP -- it's 5 o'clock!" -> "don't stop it's 5 o'clock"."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'").replace("`", "'")
    text = _LONE_APOSTROPHE.sub(" ", _NOT_KEPT.sub(" ", text))
    return " ".join(text.split())


def asr_error_rates(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> dict[str, float]:
    """Corpus WER and CER against one reference each (refs[i][0]), both sides normalised."""
    try:
        import jiwer
    except ImportError:  # an optional extra
        raise UserError(
            "the asr_wer / asr_cer metrics need jiwer: pip install -e '.[speech]'"
        ) from None
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} reference sets")
    ref = [normalize_transcript(r[0]) for r in refs]
    hyp = [normalize_transcript(h) for h in hyps]
    if not any(ref):
        raise ValueError("every reference transcript is empty: nothing to score")
    return {"asr_wer": float(jiwer.wer(ref, hyp)), "asr_cer": float(jiwer.cer(ref, hyp))}


BLEU_TOKENIZERS = ("13a", "zh", "intl", "char", "none")  # sacreBLEU's; zh splits CJK characters
BleuTokenize = Literal[BLEU_TOKENIZERS]


def bleu(
    hyps: Sequence[str], refs: Sequence[Sequence[str]], tokenize: str = "13a"
) -> tuple[float, str]:
    """Corpus BLEU (sacreBLEU, its `tokenize`: 13a by default, zh for Chinese) and its
    signature; refs[i] lists sentence i's refs."""
    import sacrebleu  # here, not at the top: the CLI starts without it

    streams = _ref_streams(refs)
    metric = sacrebleu.metrics.BLEU(tokenize=tokenize)
    return metric.corpus_score(list(hyps), streams).score, str(metric.get_signature())


def chrf(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> tuple[float, str]:
    import sacrebleu

    streams = _ref_streams(refs)
    metric = sacrebleu.metrics.CHRF()
    return metric.corpus_score(list(hyps), streams).score, str(metric.get_signature())


ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def rouge(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> dict[str, float | str]:
    """ROUGE-1/2/L F1 x 100, each sentence scored by the mean over its references (and, as
    `*_max`, by its best one); `rouge` = the mean of the three, what a run selects on."""
    try:
        from rouge_score import rouge_scorer
    except ImportError:  # an optional extra, like the plots
        raise UserError(
            "the rouge metric needs the rouge-score package: pip install -e '.[rouge]'"
        ) from None
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses but {len(refs)} reference sets")
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    mean = dict.fromkeys(ROUGE_TYPES, 0.0)
    best = dict.fromkeys(ROUGE_TYPES, 0.0)
    for hyp, options in zip(hyps, refs):
        per_ref = [scorer.score(r, hyp) for r in options if r is not None]
        for k in ROUGE_TYPES:
            f1 = [s[k].fmeasure for s in per_ref] or [0.0]
            mean[k] += sum(f1) / len(f1)
            best[k] += max(f1)
    n = max(1, len(hyps))
    out: dict[str, float | str] = {k: 100 * v / n for k, v in mean.items()}
    out["rouge"] = sum(out[k] for k in ROUGE_TYPES) / len(ROUGE_TYPES)
    out.update({f"{k}_max": 100 * v / n for k, v in best.items()})
    out["rouge_signature"] = "rouge-score|F1|porter-stemmer|refs:mean-per-sentence"
    return out


def _ref_streams(refs: Sequence[Sequence[str]]) -> list[list[str]]:
    """Per-sentence reference lists -> sacreBLEU's reference streams (padded with None)."""
    n = max(len(r) for r in refs)
    return [[r[k] if k < len(r) else None for r in refs] for k in range(n)]


def same_shape(
    sources: Sequence[str], hyps: Sequence[str], marks: Sequence[str] = ("，",)
) -> float:
    """The share of outputs with their source's shape, character by character (spaces
    ignored): the same length, and each of `marks` where the source has it and nowhere
    else (a couplet's second line against its first)."""
    if len(sources) != len(hyps):
        raise ValueError(f"{len(sources)} sources but {len(hyps)} outputs")
    kept = 0
    for src, hyp in zip(sources, hyps):
        a, b = "".join(src.split()), "".join(hyp.split())
        kept += len(a) == len(b) and all(
            y == x if x in marks else y not in marks for x, y in zip(a, b)
        )
    return kept / max(1, len(sources))


def perplexity(total_nll: float, n_tokens: int) -> float:
    return math.exp(min(total_nll / max(1, n_tokens), 100.0))


def score(
    metric: str, hyps: Sequence[str], refs: Sequence[Sequence[str]], *, tokenize: str = "13a"
) -> dict[str, float | str]:
    """The named task metric (wer/per -> both; asr_wer/asr_cer -> both; bleu/chrf -> score and
    signature; rouge -> ROUGE-1/2/L, their mean and signature); `tokenize` is BLEU's (chrF
    works on characters and needs none)."""
    if metric not in DECODED_METRICS:
        raise ValueError(
            f"{metric!r} is not a metric of translations; use one of {DECODED_METRICS}"
        )
    if metric in ("wer", "per"):
        return wer_per(hyps, refs)
    if metric in ("asr_wer", "asr_cer"):
        return asr_error_rates(hyps, refs)
    if metric == "rouge":
        return rouge(hyps, refs)
    value, signature = bleu(hyps, refs, tokenize) if metric == "bleu" else chrf(hyps, refs)
    return {metric: value, f"{metric}_signature": signature}


OPEN_END = 10**9  # the upper edge of an open last bucket


def bucketed(
    metric_fn,
    hyps: Sequence[str],
    refs: Sequence[Sequence[str]],
    keys: Sequence[float],
    edges: Sequence[float],
    min_sentences: int = 1,
) -> list[dict]:
    """A corpus metric per bucket of a per-sentence key: bucket b holds edges[b] <= key < edges[b+1].

    A bucket with fewer than `min_sentences` sentences joins the next one (the last joins the
    one before): corpus BLEU over one or two sentences is noise, not a point on a curve."""
    spans = []  # [from, to, indices]
    for lo, hi in zip(edges[:-1], edges[1:]):
        idx = [i for i, k in enumerate(keys) if lo <= k < hi]
        if not idx:
            continue
        if spans and len(spans[-1][2]) < min_sentences:
            spans[-1][1], spans[-1][2] = hi, spans[-1][2] + idx
        else:
            spans.append([lo, hi, idx])
    if len(spans) > 1 and len(spans[-1][2]) < min_sentences:
        last = spans.pop()
        spans[-1][1], spans[-1][2] = last[1], spans[-1][2] + last[2]
    return [
        {
            "from": lo,
            "to": hi,
            "sentences": len(idx),
            "score": metric_fn([hyps[i] for i in idx], [refs[i] for i in idx])[0],
        }
        for lo, hi, idx in spans
    ]


def bucket_label(row: dict, *, whole_numbers: bool = False) -> str:
    """'1-7' for whole-number keys (lengths: `to` is exclusive), '500-1000' for real-valued ones
    (average ranks), '4000+' for the open last bucket."""
    if row["to"] >= OPEN_END:
        return f"{row['from']:g}+"
    return f"{row['from']:g}-{row['to'] - 1 if whole_numbers else row['to']:g}"


def frequency_ranks(train_sentences: Sequence[Sequence[str]]) -> dict[str, int]:
    """Word -> 1-based rank by training frequency (most frequent = 1)."""
    counts = Counter(w for s in train_sentences for w in s)
    return {w: r for r, (w, _) in enumerate(counts.most_common(), 1)}


def average_rank(tokens: Sequence[str], ranks: dict[str, int]) -> float:
    """Mean frequency rank of a sentence's words; unseen words rank after all seen ones."""
    unseen = len(ranks) + 1
    return sum(ranks.get(w, unseen) for w in tokens) / max(1, len(tokens))


def breakdowns(
    sources_tok, hyps, refs, ranks: dict[str, int], tokenize: str = "13a"
) -> dict[str, list[dict]]:
    """BLEU (sacreBLEU's `tokenize`) by source length and by average word-frequency rank (the
    paper's Figure 3); buckets of fewer than 20 sentences join a neighbour."""
    lengths = [len(s) for s in sources_tok]
    rarity = [average_rank(s, ranks) for s in sources_tok]
    length_edges = [1, 8, 12, 17, 22, 28, 35, OPEN_END]
    rank_edges = [0, 500, 1000, 1500, 2000, 2500, 3000, 4000, OPEN_END]

    def metric(h, r):
        return bleu(h, r, tokenize=tokenize)

    return {
        "by_length": bucketed(metric, hyps, refs, lengths, length_edges, min_sentences=20),
        "by_rarity": bucketed(metric, hyps, refs, rarity, rank_edges, min_sentences=20),
    }


# -- forecasts: metrics of real values ---------------------------------------------------


def mase_scale(history: Sequence[float], season: int = 1) -> float:
    """The MASE denominator: the mean absolute error of the seasonal naive forecast over the
    history before the origin (Hyndman & Koehler, 2006); season 1 when the history is
    shorter than two seasons."""
    import numpy as np

    y = np.asarray(history, dtype=float)
    m = season if len(y) > season else 1
    return float(np.mean(np.abs(y[m:] - y[:-m]))) if len(y) > m else float("nan")


def mase(y, forecast, scale: float) -> float:
    """Mean absolute error over the horizon, divided by `mase_scale` of the history."""
    import numpy as np

    return float(np.mean(np.abs(np.asarray(y) - np.asarray(forecast))) / scale)


def smape(y, forecast) -> float:
    """Symmetric MAPE in percent, as in the M4 competition: 200 / H * sum |y - f| / (|y| + |f|);
    a step where both are 0 counts as no error."""
    import numpy as np

    y, f = np.asarray(y, dtype=float), np.asarray(forecast, dtype=float)
    den = np.abs(y) + np.abs(f)
    return float(np.mean(np.where(den > 0, 2 * np.abs(y - f) / np.where(den > 0, den, 1), 0)) * 100)


def crps_samples(samples, y) -> float:
    """Mean CRPS of sample forecasts (S, ...) for values y (...): E|X - y| - E|X - X'| / 2,
    the second term from the sorted samples in O(S log S)."""
    import numpy as np

    x, y = np.sort(np.asarray(samples, dtype=float), axis=0), np.asarray(y, dtype=float)
    S = x.shape[0]
    spread = np.tensordot(2 * np.arange(1, S + 1) - S - 1, x, axes=(0, 0)) * 2 / S**2
    return float(np.mean(np.abs(x - y).mean(0) - spread / 2))


def crps_gaussian(mean, std, y) -> float:
    """Mean closed-form CRPS of Gaussian forecasts (Gneiting & Raftery, 2007)."""
    import numpy as np

    mu, sd, y = (np.asarray(a, dtype=float) for a in (mean, std, y))
    sd = np.maximum(sd, 1e-12)
    z = (y - mu) / sd
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return float(np.mean(sd * (z * (2 * cdf - 1) + 2 * pdf - 1 / math.sqrt(math.pi))))


def coverage(lower, upper, y) -> float:
    """The share of values inside their interval [lower, upper]."""
    import numpy as np

    y = np.asarray(y)
    return float(np.mean((np.asarray(lower) <= y) & (y <= np.asarray(upper))))
