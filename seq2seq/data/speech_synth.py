"""`seq2seq data speech-synth`: an English speech corpus rendered from real sentences with
Debian's text-to-speech engines, with noise, split by voice.

Sentences: Multi30k English image captions and Tatoeba English sentences (../shared/data),
4 to 20 words, letters and punctuation only (no digits: a TTS engine reads "5" as "five"),
each sentence in one split only. Train draws from Multi30k train and Tatoeba train; dev
from Multi30k val and the first half of Tatoeba dev; test from Multi30k test_2016_flickr
and the second half of Tatoeba dev; half of each split's sentences from either corpus.

Voices: espeak-ng's English voices (`espeak-ng --voices=en`, the gmw/ ones; the mbrola ones
need mbrola) times its variants m1..m8 and f1..f5, with a per-utterance rate (-s, words a
minute) and pitch (-p, 0..99); flite's voices (kal at 8 kHz, kal16, awb, rms, slt; not
awb_time, which only says times), with a per-utterance duration stretch; festival's
kal_diphone through text2wave (duration stretch). The split is by voice: dev and test
each hold out whole espeak-ng variants (in every accent) and one flite voice; festival is
in no split but `test_engine`, which renders the test sentences, so `test` and
`test_engine` differ only in who speaks (unseen voices of seen engines vs an unseen engine).
Caveat: festival's kal_diphone and flite's kal are recordings of the same speaker, so
`test_engine` measures a new engine (diphone synthesis, prosody), not a new person.

Every file: the engine's output read as mono, resampled to 16 kHz, scaled to a random
peak, and with probability 3/4 mixed with white, pink (1/f) or brown (1/f^2) noise at an
SNR of 20, 10 or 5 dB (signal power over the whole file, silences included); the rest
clean. Every draw is seeded by (seed, split, index), so a build is repeatable and a job's
result does not depend on the worker that ran it. `utterances.tsv` records each file's
engine, voice, rate, pitch, noise and SNR; README.md the recipe and the hours per split.
"""

from __future__ import annotations

import gzip
import platform
import random
import re
import shutil
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from ..errors import UserError
from .audio import read_audio, write_wav

ENGINES = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}
INSTALL = "install it: apt-get install espeak-ng flite festival"
VARIANTS = [f"m{i}" for i in range(1, 9)] + [f"f{i}" for i in range(1, 6)]
FLITE_SPLIT = {"train": ["kal", "kal16", "slt"], "dev": ["awb"], "test": ["rms"]}
VARIANT_SPLIT = {"dev": ["m6", "f2"], "test": ["m3", "f4"]}  # the rest train
SNRS = [20, 10, 5]
NOISES = ["white", "pink", "brown"]
ESPEAK_RATE, ESPEAK_PITCH, STRETCH = (130, 190), (25, 75), (0.85, 1.2)
EVAL_SIZE = 300  # utterances of dev, test and test_engine
_WORD = re.compile(r"^[A-Za-z' ,.;:!?\"-]+$")


def check_engines() -> None:
    missing = [name for name, cmd in ENGINES.items() if shutil.which(cmd) is None]
    if missing:
        raise UserError(f"speech-synth: {', '.join(missing)} not found; {INSTALL}")


def espeak_voices() -> list[str]:
    """espeak-ng's own English voices (gmw/...), by the name `-v` takes."""
    out = subprocess.run(["espeak-ng", "--voices=en"], capture_output=True, text=True).stdout
    names = [ln.split()[4] for ln in out.splitlines()[1:] if len(ln.split()) > 4]
    return sorted({n.split("/", 1)[1] for n in names if n.startswith("gmw/")})


def voices(split: str, bases: list[str]) -> list[tuple[str, str]]:
    """(engine, voice) pairs a split is spoken by."""
    if split == "test_engine":
        return [("festival", "kal_diphone")]
    held = {v for vs in VARIANT_SPLIT.values() for v in vs}
    variants = VARIANT_SPLIT.get(split) or [v for v in VARIANTS if v not in held]
    espeak = [("espeak-ng", f"{b}+{v}") for b in bases for v in variants]
    return espeak + [("flite", v) for v in FLITE_SPLIT[split]]


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise UserError(f"{path}: not found; --from must be the shared data folder (README)")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [line.strip() for line in f]


def _usable(text: str) -> bool:
    return 4 <= len(text.split()) <= 20 and bool(_WORD.match(text))


def sentence_pools(shared: Path, seed: int) -> dict[str, list[str]]:
    """Split -> shuffled sentences, half Multi30k, half Tatoeba, no sentence in two splits."""
    m30k, tat = shared / "multi30k", shared / "tatoeba_en_fr"
    dev_tat = _lines(tat / "dev.en")
    sources = {
        "train": (_lines(m30k / "train.en.gz"), _lines(tat / "train.en.gz")),
        "dev": (_lines(m30k / "val.en.gz"), dev_tat[: len(dev_tat) // 2]),
        "test": (_lines(m30k / "test_2016_flickr.en.gz"), dev_tat[len(dev_tat) // 2 :]),
    }
    seen: set[str] = set()
    pools = {}
    for split in ("test", "dev", "train"):  # held-out sentences first: train loses repeats
        halves = []
        for k, lines in enumerate(sources[split]):
            keep = []
            for s in lines:
                key = " ".join(re.sub(r"[^a-z' ]", " ", s.lower()).split())
                if _usable(s) and key not in seen:
                    seen.add(key)
                    keep.append(s)
            random.Random(f"{seed}-{split}-{k}").shuffle(keep)
            halves.append(keep)
        n = min(len(h) for h in halves)
        pools[split] = [s for pair in zip(halves[0][:n], halves[1][:n]) for s in pair]
    return pools


def plan(split: str, index: int, text: str, bases: list[str], seed: int) -> dict:
    """One utterance's recipe, a pure function of (seed, split, index)."""
    rng = random.Random(f"{seed}-{split}-{index}")
    choices = voices(split, bases)
    espeak = [v for v in choices if v[0] == "espeak-ng"]
    other = [v for v in choices if v[0] != "espeak-ng"]
    engine, voice = rng.choice(espeak if espeak and rng.random() < 0.7 else other)
    job = {"split": split, "id": f"{split}-{index:05d}", "engine": engine, "voice": voice}
    job["rate"] = rng.randint(*ESPEAK_RATE) if engine == "espeak-ng" else ""
    job["pitch"] = rng.randint(*ESPEAK_PITCH) if engine == "espeak-ng" else ""
    job["stretch"] = "" if engine == "espeak-ng" else round(rng.uniform(*STRETCH), 3)
    job["peak"] = round(rng.uniform(0.3, 0.9), 3)
    clean = rng.random() < 0.25
    job["noise"] = "none" if clean else rng.choice(NOISES)
    job["snr_db"] = "" if clean else rng.choice(SNRS)
    job["noise_seed"] = zlib.crc32(job["id"].encode()) ^ seed
    job["text"] = text
    return job


def _engine_command(job: dict, txt: Path, wav: Path) -> list[str]:
    if job["engine"] == "espeak-ng":
        v, s, p = job["voice"], str(job["rate"]), str(job["pitch"])
        return ["espeak-ng", "-v", v, "-s", s, "-p", p, "-f", str(txt), "-w", str(wav)]
    if job["engine"] == "flite":
        stretch = f"duration_stretch={job['stretch']}"
        return ["flite", "-voice", job["voice"], "--setf", stretch, str(txt), str(wav)]
    ev = f"(Parameter.set 'Duration_Stretch {job['stretch']})"
    return ["text2wave", "-eval", ev, str(txt), "-o", str(wav)]


def coloured_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance white, pink (power 1/f) or brown (1/f^2) noise of n samples."""
    white = rng.standard_normal(n)
    if kind != "white":
        spec = np.fft.rfft(white)
        f = np.arange(len(spec), dtype=np.float64)
        f[0] = 1.0
        spec /= f ** (0.5 if kind == "pink" else 1.0)
        white = np.fft.irfft(spec, n)
    return (white / (white.std() + 1e-12)).astype(np.float32)


def mix(wave: np.ndarray, job: dict) -> np.ndarray:
    """Scale to the job's peak and add its noise at its SNR."""
    wave = wave / (np.abs(wave).max() + 1e-9)
    if job["noise"] != "none":
        rng = np.random.default_rng(job["noise_seed"])
        power = float(np.mean(wave**2))
        noise = coloured_noise(job["noise"], len(wave), rng)
        wave = wave + noise * np.sqrt(power / 10 ** (job["snr_db"] / 10))
    return (wave * (job["peak"] / (np.abs(wave).max() + 1e-9))).astype(np.float32)


def render(job: dict, out: Path) -> float:
    """Synthesise one utterance into out/<split>/<id>.wav; its duration in seconds."""
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        txt, raw = Path(tmp) / "text.txt", Path(tmp) / "raw.wav"
        txt.write_text(job["text"] + "\n", encoding="utf-8")
        cmd = _engine_command(job, txt, raw)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or not raw.is_file():
            err = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"speech-synth: {' '.join(cmd[:3])} failed ({err}); {INSTALL}")
        wave = mix(read_audio(raw, 16000), job)
    write_wav(out / job["split"] / f"{job['id']}.wav", wave, 16000)
    return len(wave) / 16000


def _render_one(args) -> tuple[str, float]:
    job, out = args
    return job["id"], render(job, out)


def _run(jobs: list[dict], out: Path, workers: int) -> dict[str, float]:
    """Render the jobs (in `workers` processes); id -> seconds, in the jobs' order."""
    from multiprocessing import Pool

    from tqdm import tqdm

    if workers <= 1:
        return {j["id"]: render(j, out) for j in jobs}
    with Pool(workers) as pool:
        done = pool.imap(_render_one, [(j, out) for j in jobs], chunksize=4)
        bar = tqdm(done, total=len(jobs), desc="speech-synth", unit="utt", leave=False)
        return dict(bar)


def _train_until(pool: list[str], hours: float, out: Path, seed: int, bases, workers: int):
    """Train jobs in order, rendered in chunks until their audio reaches `hours`; the files
    past the crossing are removed, so the result does not depend on the chunk size."""
    jobs, secs, total = [], {}, 0.0
    chunk = min(256, 16 + int(hours * 3600 / 3))  # about 3 s an utterance
    for start in range(0, len(pool), chunk):
        batch = [
            plan("train", start + k, s, bases, seed) for k, s in enumerate(pool[start:][:chunk])
        ]
        secs.update(_run(batch, out, workers))
        for job in batch:
            if total >= hours * 3600:
                (out / "train" / f"{job['id']}.wav").unlink()
                continue
            jobs.append(job)
            total += secs[job["id"]]
        if total >= hours * 3600:
            return jobs, secs
    raise UserError(f"--hours {hours}: more than the {len(pool)} training sentences give; ask less")


def build_speech_synth(
    out: Path,
    shared: Path,
    *,
    hours: float = 3.5,
    seed: int = 1,
    eval_size: int = EVAL_SIZE,
    workers: int = 2,
) -> dict[str, dict]:
    """Render the corpus into `out`: <split>/*.wav, <split>.tsv manifests, utterances.tsv, README.md."""
    check_engines()
    if out.exists() and any(out.iterdir()):
        raise UserError(f"--out {out}: not empty; remove it or choose another folder")
    started = time.time()
    bases, pools = espeak_voices(), sentence_pools(shared, seed)
    for split in ("train", "dev", "test", "test_engine"):
        (out / split).mkdir(parents=True, exist_ok=True)
    evals = {s: pools[s][:eval_size] for s in ("dev", "test")}
    evals["test_engine"] = evals["test"]
    jobs = {
        s: [plan(s, i, t, bases, seed) for i, t in enumerate(texts)] for s, texts in evals.items()
    }
    secs = _run([j for js in jobs.values() for j in js], out, workers)
    jobs["train"], train_secs = _train_until(pools["train"], hours, out, seed, bases, workers)
    secs.update(train_secs)
    summary = {}
    for split, js in jobs.items():
        lines = [f"{split}/{j['id']}.wav\t{j['text']}" for j in js]
        (out / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary[split] = {
            "utterances": len(js),
            "hours": sum(secs[j["id"]] for j in js) / 3600,
            "voices": sorted({f"{j['engine']}:{j['voice']}" for j in js}),
        }
    _write_table(
        out / "utterances.tsv",
        [j for s in ("train", "dev", "test", "test_engine") for j in jobs[s]],
        secs,
    )
    minutes = (time.time() - started) / 60
    write_readme(
        out, summary, bases=bases, seed=seed, hours=hours, eval_size=eval_size, minutes=minutes
    )
    return summary


COLUMNS = [
    "split",
    "id",
    "engine",
    "voice",
    "rate",
    "pitch",
    "stretch",
    "peak",
    "noise",
    "snr_db",
    "noise_seed",
    "seconds",
    "text",
]


def _write_table(path: Path, jobs: list[dict], secs: dict[str, float]) -> None:
    rows = ["\t".join(COLUMNS)]
    for j in jobs:
        row = {**j, "seconds": f"{secs[j['id']]:.3f}"}
        rows.append("\t".join(str(row[c]) for c in COLUMNS))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _version(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except OSError:
        return "?"
    lines = [ln.strip() for ln in (done.stdout or done.stderr).splitlines() if ln.strip()]
    line = next((ln for ln in lines if "version" in ln.lower()), lines[0] if lines else "?")
    return line.split("  ")[0]


def write_readme(out: Path, summary: dict, *, bases, seed, hours, eval_size, minutes) -> None:
    """README.md: the command, engine versions, hours per split, the recipe, the voices."""
    rows = "\n".join(
        f"| {s} | {v['utterances']} | {v['hours']:.2f} | {len(v['voices'])} |"
        for s, v in summary.items()
    )
    voices = "\n".join(f"- **{s}**: {', '.join(v['voices'])}" for s, v in summary.items())
    text = f"""# speech-synth: English speech rendered by Debian's TTS engines

Built by `seq2seq data speech-synth --out {out} --hours {hours} --seed {seed}`
(--eval-utterances {eval_size}) in {minutes:.1f} minutes on {platform.node() or "?"}
({platform.machine()}). Engines: {_version(["espeak-ng", "--version"])};
flite ({_version(["flite", "--version"])}); {_version(["festival", "--version"])}.

| split | utterances | hours | voices |
|---|---|---|---|
{rows}

Manifests: `train.tsv`, `dev.tsv`, `test.tsv`, `test_engine.tsv` (16 kHz mono 16-bit WAV
path, relative to this folder, TAB, the sentence as written; the speech reader normalises
it). They are the exact sentence lists. `utterances.tsv` gives every file's engine, voice,
rate, pitch, duration stretch, peak level, noise kind, SNR, noise seed and duration.

{_recipe(bases, seed, hours, eval_size)}
## Voices per split

{voices}
"""
    (out / "README.md").write_text(text, encoding="utf-8")


def _recipe(bases: list[str], seed: int, hours: float, eval_size: int) -> str:
    held = {v for vs in VARIANT_SPLIT.values() for v in vs}
    return f"""## Recipe

- Sentences: Multi30k English captions and Tatoeba English (../shared/data), 4-20 words,
  only letters, apostrophes, hyphens and punctuation (no digits); no sentence (lower-cased,
  letters only) in two splits. train: Multi30k train + Tatoeba train; dev: Multi30k val +
  the first half of Tatoeba dev; test: Multi30k test_2016_flickr + the second half of
  Tatoeba dev; each split alternates the two corpora, each shuffled with its seed.
  dev and test take their first {eval_size}; `test_engine` renders the same sentences as
  `test`; train takes sentences in order until its audio reaches {hours} hours.
- Voices: espeak-ng bases {", ".join(bases)}, with variants {", ".join(VARIANTS)}; dev
  holds out variants {", ".join(VARIANT_SPLIT["dev"])}, test {", ".join(VARIANT_SPLIT["test"])}
  (in every base); train has the other {len(VARIANTS) - len(held)}. flite voices: train
  {", ".join(FLITE_SPLIT["train"])}, dev {", ".join(FLITE_SPLIT["dev"])}, test
  {", ".join(FLITE_SPLIT["test"])}. festival (kal_diphone, text2wave) only in
  `test_engine`. Per utterance: an espeak-ng voice with probability 0.7, else flite (dev,
  train, test); voice uniform within the engine.
- Prosody: espeak-ng rate `-s` a uniform integer in {ESPEAK_RATE[0]}-{ESPEAK_RATE[1]} words a
  minute, pitch `-p` a uniform integer in {ESPEAK_PITCH[0]}-{ESPEAK_PITCH[1]}; flite
  `--setf duration_stretch` and festival `Duration_Stretch` uniform in
  [{STRETCH[0]}, {STRETCH[1]}], rounded to 3 decimals.
- Level and noise: every file resampled to 16 kHz (soxr HQ), scaled to a peak uniform in
  [0.3, 0.9]; clean with probability 0.25, else white, pink (1/f) or brown (1/f^2) noise
  (uniform choice) at an SNR of {", ".join(map(str, SNRS))} dB (uniform choice; signal power
  over the whole file).
- Seeds: every draw of utterance i of split s comes from Python's `random.Random("{seed}-s-i")`,
  the noise from numpy's `default_rng(crc32(id) ^ {seed})`; sentence shuffles from
  `random.Random("{seed}-split-k")` (k = 0 Multi30k, 1 Tatoeba). The same command with the
  same engine versions rebuilds the same corpus.
- Caveat: festival's kal_diphone and flite's kal/kal16 are the same recorded speaker;
  `test_engine` measures a new synthesis engine, not a new person.
"""
