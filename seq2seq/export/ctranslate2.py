"""The Transformer in CTranslate2: the weights mapped onto its `TransformerSpec`, and a
translator over the exported folder.

The mapping (CTranslate2's spec names on the left; `ctranslate2/converters/opennmt_py.py`
maps OpenNMT-py's pre-norm Transformer the same way):

- encoder/decoder `embeddings`: `src_emb` / `tgt_emb`, scaled by sqrt(d_model) in both;
  `position_encodings`: our sinusoid table (sin at even, cos at odd dimensions; CTranslate2's
  built-in table puts all sines first, so the table is written out), as many positions as the
  run's input limit and length cap allow;
- each layer: `self_attention.linear[0]` = [q; k; v] fused, `linear[1]` = o, its `layer_norm`
  = norm1; decoder `attention.linear[0]` = q, `linear[1]` = [k; v], `linear[2]` = o, its
  `layer_norm` = norm2; `ffn.linear_0` / `linear_1` = the feed-forward's two layers, its
  `layer_norm` = norm3 (ReLU); the final `layer_norm`s = enc_norm / dec_norm, epsilon 1e-5;
- decoder `projection`: `out` (tied to `tgt_emb` when tie_embeddings; CTranslate2 stores a
  tied matrix once), with a bias of -1e9 on <pad> and <s>, which our search never outputs;
- vocabularies: ours as they are. CTranslate2 looks tokens up by string: its defaults
  <unk>, <s>, </s> are our specials (ids 1..3); <pad> (id 0) is a token it never reads.

Decoding differences from our search, by construction (the tests hold the rest equal):
CTranslate2 masks <pad>/<s> before its log-softmax (ours after: its scores are higher by
-log(1 - p(<pad>) - p(<s>)) per step, tiny once a model is trained); with length_penalty 0 it
ends a sentence once its best hypothesis has ended (our `early_stop`), otherwise once `beam`
hypotheses have (our default), whatever `decode.early_stop` says; in the step that fills a
sentence's `beam` finished hypotheses it keeps every one that ends there (ours keeps the best
up to `beam`), so n-best lists past the first can differ; a hypothesis stopped by the length
cap keeps the log-probability of the token CTranslate2 chose there instead of our forced </s>.
Both divide a score by (tokens + 1)**length_penalty, </s> counted.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

import torch

from ..checkpoints import Checkpoint, load_model
from ..decoding.search import max_lengths
from ..errors import UserError
from ..models.transformer import sinusoids
from ..precision import Precision, decoding_precision
from ..translator import INPUT_LIMIT_FACTOR, Translation, Translator, check_device, unknown_share
from ..vocab import BOS_ID, PAD_ID
from . import bundle

COMPUTE_TYPES = {"fp32": "float32", "int8": "int8", "bf16": "bfloat16"}


def position_limit(cfg) -> int:
    """Positions the table must cover: the longest accepted input and the longest output."""
    src = cfg.decode.max_input_tokens or INPUT_LIMIT_FACTOR * cfg.data.max_src_len
    tgt = int(max_lengths(torch.tensor([src]), cfg.decode.max_len_a, cfg.decode.max_len_b)) + 1
    return max(src, tgt) + 1


def _np(t: torch.Tensor):
    return t.detach().float().cpu().numpy()


def _linear(spec, *layers: torch.nn.Linear) -> None:
    """One CTranslate2 linear from one or several of ours (stacked on the output side)."""
    spec.weight = _np(torch.cat([lin.weight for lin in layers]))
    spec.bias = _np(torch.cat([lin.bias for lin in layers]))


def _norm(spec, norm: torch.nn.LayerNorm) -> None:
    spec.gamma, spec.beta = _np(norm.weight), _np(norm.bias)


def _layer(spec, layer, cross: bool) -> None:
    sa = layer.self_attn
    _linear(spec.self_attention.linear[0], sa.q, sa.k, sa.v)
    _linear(spec.self_attention.linear[1], sa.o)
    _norm(spec.self_attention.layer_norm, layer.norm1)
    if cross:
        ca = layer.cross
        _linear(spec.attention.linear[0], ca.q)
        _linear(spec.attention.linear[1], ca.k, ca.v)
        _linear(spec.attention.linear[2], ca.o)
        _norm(spec.attention.layer_norm, layer.norm2)
    _linear(spec.ffn.linear_0, layer.ff[0])
    _linear(spec.ffn.linear_1, layer.ff[3])
    _norm(spec.ffn.layer_norm, layer.norm3)


def build_spec(model, cfg, processor: dict):
    """The `TransformerSpec` of one of our Transformers, with its weights and vocabularies."""
    bundle.engine("ctranslate2", "--format ctranslate2")
    from ctranslate2.specs import transformer_spec

    m = cfg.model
    spec = transformer_spec.TransformerSpec.from_config(
        (m.layers, m.dec_layers or m.layers), m.heads, pre_norm=True
    )
    spec.config.layer_norm_epsilon = 1e-5  # torch's LayerNorm default, which ours use
    table = _np(sinusoids(position_limit(cfg), m.d_model))
    for part, emb, layers, norm in (
        (spec.encoder, model.src_emb, model.enc, model.enc_norm),
        (spec.decoder, model.tgt_emb, model.dec, model.dec_norm),
    ):
        embeddings = part.embeddings  # the encoder's: a list, one per source factor
        (embeddings[0] if isinstance(embeddings, list) else embeddings).weight = _np(emb.weight)
        part.position_encodings.encodings = table
        _norm(part.layer_norm, norm)
        for layer_spec, layer in zip(part.layer, layers):
            _layer(layer_spec, layer, cross=part is spec.decoder)
    spec.decoder.projection.weight = _np(model.out.weight)
    bias = torch.zeros(model.out.weight.size(0))
    bias[[PAD_ID, BOS_ID]] = -1e9  # never an output, as in our search
    spec.decoder.projection.bias = _np(bias)
    spec.register_source_vocabulary(list(processor["src_vocab"]))
    spec.register_target_vocabulary(list(processor["tgt_vocab"]))
    return spec


def export_ctranslate2(ckpt: Checkpoint, out: str | Path) -> Path:
    """Write `ckpt`'s Transformer as a CTranslate2 model folder (float32; quantise at load)."""
    if ckpt.config.model.type != "transformer":
        raise UserError(
            f"--format ctranslate2: {ckpt.source} is a recurrent ({ckpt.config.model.cell.upper()}) "
            "model and CTranslate2 has no LSTM/GRU; export it with --format onnx"
        )
    model = load_model(ckpt, "cpu").eval()
    spec = build_spec(model, ckpt.config, ckpt.processor)
    spec.validate()
    spec.optimize(quantization=None)
    with bundle.output_folder(out) as tmp:
        spec.save(str(tmp))
        bundle.write(tmp, ckpt, "ctranslate2", positions=position_limit(ckpt.config))
    return Path(out)


def compute_type(requested: str, device: torch.device, supported: set[str]) -> Precision:
    """`--precision` -> a CTranslate2 compute type (as `Precision.name`: float32 | int8 |
    bfloat16), by the same rule as ours for `auto`; one line when the engine cannot run it."""
    if requested == "auto":
        ours = decoding_precision("auto", device)
        name = COMPUTE_TYPES[ours.name]
        if name in supported:
            return Precision(name, f"ctranslate2 {name} (auto, as ours: {ours.reason})")
        return Precision("float32", f"ctranslate2 float32: it has no {name} on this {device.type}")
    if requested not in COMPUTE_TYPES:
        raise UserError(f"--precision {requested}: use auto, fp32, bf16 or int8")
    name = COMPUTE_TYPES[requested]
    if name not in supported:
        raise UserError(
            f"--precision {requested}: CTranslate2 has no {name} on this {device.type} (it has "
            f"{', '.join(sorted(supported))}); choose another --precision"
        )
    return Precision(name, f"ctranslate2 {name} as asked")


class CT2Translator(Translator):
    """`Translator`'s API (translate, translate_nbest, evaluate) over a CTranslate2 folder
    from `export_ctranslate2`; CTranslate2 runs the search (see the module docstring for how
    its search differs from ours). `score` is not offered."""

    def __init__(self, folder: str | Path, *, device: str | None = None, precision: str = "auto"):
        ct2 = bundle.engine("ctranslate2", "--engine ctranslate2")
        meta, self.cfg, self.processor = bundle.read(folder, "ctranslate2")
        self.positions = int(meta["positions"])
        device = device or ("cuda" if ct2.get_cuda_device_count() else "cpu")
        check_device(device)
        self.device = torch.device(device)
        supported = set(ct2.get_supported_compute_types(self.device.type))
        self.choice = compute_type(precision, self.device, supported)
        self.model = None
        self.engine = ct2.Translator(
            str(folder),
            device=self.device.type,
            device_index=self.device.index or 0,
            compute_type=self.choice.name,
            intra_threads=torch.get_num_threads() if self.device.type == "cpu" else 0,
        )

    @classmethod
    def load(cls, folder, *, device=None, precision="auto", **_) -> CT2Translator:
        return cls(folder, device=device, precision=precision)

    def encode_sources(self, sentences, cfg=None, *, name=None) -> list[list[int]]:
        """As `Translator`'s, and refused where the exported position table is too short."""
        cfg = cfg or self.cfg.decode
        sources = super().encode_sources(sentences, cfg, name=name)
        caps = max_lengths(torch.tensor([len(s) for s in sources]), cfg.max_len_a, cfg.max_len_b)
        longest = max([len(s) for s in sources] + [int(caps.max()) + 1 if sources else 0])
        if longest >= self.positions:
            raise UserError(
                f"{name or 'input'}: {longest} positions needed, but the model was exported "
                f"with {self.positions}; export it again with a higher decode.max_input_tokens"
            )
        return sources

    def decode_sources(
        self, sources, cfg, *, greedy=False, progress=False, sample=False, sentences=None
    ):
        """n-best translations of encoded sentences, by CTranslate2's search (`sentences`, the
        text a copying model copies from, is not needed: no copying model is exported)."""
        if sample or cfg.length != "free" or cfg.copy_tokens:
            raise UserError(
                "--engine ctranslate2: its own search has no sampling or constrained decoding "
                "(decode.length, decode.copy_tokens); use --engine torch or --engine onnx"
            )
        caps = max_lengths(torch.tensor([len(s) for s in sources]), cfg.max_len_a, cfg.max_len_b)
        found = self._search(sources, caps.tolist(), cfg, greedy)
        vocab = self.processor.tgt_vocab
        return [
            [
                Translation(
                    self.processor.decode_tgt(ids),
                    raw,
                    norm,
                    vocab.decode(ids),
                    None,
                    unknown_share(src),
                )
                for ids, raw, norm in nbest
            ]
            for src, nbest in zip(sources, found)
        ]

    def _search(self, sources, caps: list[int], cfg, greedy: bool) -> list[list[tuple]]:
        """(ids, score, normalised score) n-best lists; sentences with one length cap go to
        CTranslate2 together (its length limit is one per call), shortest first."""
        itos, alpha = self.processor.src_vocab.itos, 0.0 if greedy else cfg.length_penalty
        found: list[list[tuple]] = [[([], 0.0, 0.0)] for _ in sources]  # empty source: empty output
        order = sorted((i for i, s in enumerate(sources) if s), key=lambda i: len(sources[i]))
        for cap, group in groupby(order, key=lambda i: caps[i]):
            group = list(group)
            for start in range(0, len(group), cfg.batch_size):
                chunk = group[start : start + cfg.batch_size]
                results = self.engine.translate_batch(
                    [[itos[t] for t in sources[i]] for i in chunk],
                    beam_size=1 if greedy else cfg.beam,
                    num_hypotheses=1 if greedy else cfg.nbest,
                    length_penalty=alpha,
                    max_decoding_length=cap + 1,  # ours: `cap` tokens, then </s>
                    min_decoding_length=0,
                    max_input_length=0,
                    return_scores=True,
                )
                for i, result in zip(chunk, results):
                    found[i] = [
                        self._hypothesis(h, s, cap, alpha)
                        for h, s in zip(result.hypotheses, result.scores)
                    ]
        return found

    def _hypothesis(self, tokens: list[str], score: float, cap: int, alpha: float) -> tuple:
        """CTranslate2 returns score / (tokens + 1)**alpha: back to the sum of
        log-probabilities; a hypothesis stopped at the cap is cut to `cap` tokens as ours."""
        raw = score * (len(tokens) + 1) ** alpha if alpha else score
        return self.processor.tgt_vocab.encode(tokens[:cap]), raw, score

    def score(self, pairs, *, batch_size: int = 64) -> list[float]:
        raise UserError("score: not offered with --engine ctranslate2; score with the run itself")
