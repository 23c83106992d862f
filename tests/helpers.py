"""Shared test helpers: generated data, a tiny config builder and a tiny model.

Every data set here is built in code; nothing is read from the repository's data files.
"""

from __future__ import annotations

import contextlib
import copy
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seq2seq.config import Config, RNNConfig, config_from_dict
from seq2seq.data.batching import collate
from seq2seq.data.io import write_tsv
from seq2seq.models.rnn import RNNSeq2Seq

LETTERS = "abcdefgh"


def make_pairs(n: int = 20, *, seed: int = 0, min_len: int = 3, max_len: int = 6):
    """`n` distinct random letter strings -> their reversed upper-case form."""
    rng = random.Random(seed)
    sources: list[str] = []
    while len(sources) < n:
        s = "".join(rng.choice(LETTERS) for _ in range(rng.randint(min_len, max_len)))
        if s not in sources:
            sources.append(s)
    return [(s, s[::-1].upper()) for s in sources]


def deep_update(base: dict, extra: dict) -> dict:
    """`base` with `extra` merged in, recursively (neither argument is changed)."""
    out = copy.deepcopy(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_update(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def tiny_config_dict(train_tsv: str | Path, dev_tsv: str | Path | None = None, **sections):
    """A small char-level config over a TSV; keyword sections are merged in (`train={...}`)."""
    raw = {
        "data": {
            "dataset": "files",
            "train": {"tsv": str(train_tsv)},
            "src_tokenizer": {"kind": "char"},
            "tgt_tokenizer": {"kind": "char"},
            "reverse_source": True,
        },
        "model": {
            "type": "rnn",
            "cell": "lstm",
            "layers": 1,
            "emb_size": 32,
            "hidden_size": 64,
            "dropout": 0.0,
        },
        "train": {
            "optimizer": "adam",
            "lr": 0.02,
            "schedule": "constant",
            "batch_size": 20,
            "clip_norm": 5.0,
            "epochs": 1000,
            "max_steps": 100,
            "valid_every": 1000,
            "metric": "wer",
            "precision": "fp32",
            "seed": 1,
        },
        "decode": {"beam": 3, "max_len_a": 1.0, "max_len_b": 3, "batch_size": 16},
    }
    if dev_tsv is not None:
        raw["data"]["dev"] = {"tsv": str(dev_tsv)}
    return deep_update(raw, sections)


def tiny_config(train_tsv, dev_tsv=None, **sections) -> Config:
    return config_from_dict(tiny_config_dict(train_tsv, dev_tsv, **sections))


def write_pairs(path: Path, pairs) -> Path:
    write_tsv(path, pairs)
    return path


def tiny_model(
    src_vocab: int = 12,
    tgt_vocab: int = 10,
    *,
    seed: int = 0,
    layers: int = 2,
    init_range: float = 0.5,
    cell: str = "lstm",
) -> RNNSeq2Seq:
    """A random RNNSeq2Seq in eval mode; a wide init makes its distributions peaked."""
    torch.manual_seed(seed)
    cfg = RNNConfig(
        cell=cell,
        layers=layers,
        emb_size=16,
        hidden_size=32,
        dropout=0.0,
        init_range=init_range,
    )
    return RNNSeq2Seq(cfg, src_vocab, tgt_vocab).eval()


def random_sources(n: int, vocab: int, *, seed: int = 0, min_len: int = 1, max_len: int = 8):
    """`n` id lists of different lengths over the non-special ids [4, vocab)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        length = min_len + i % (max_len - min_len + 1)
        out.append(torch.randint(4, vocab, (length,), generator=g).tolist())
    return out


def model_params(ckpt_path: Path) -> dict[str, torch.Tensor]:
    return torch.load(ckpt_path, weights_only=True)["model"]


def char_examples(pairs):
    """Text pairs -> (id pairs, vocabulary size) over one shared character table."""
    chars = sorted({c for s, t in pairs for c in s + t})
    ids = {c: i + 4 for i, c in enumerate(chars)}
    examples = [([ids[c] for c in s], [ids[c] for c in t]) for s, t in pairs]
    return examples, 4 + len(chars)


def quick_trained_model(steps: int = 20, *, seed: int = 0):
    """A tiny model trained for a few full-batch steps on 30 generated pairs.

    Partly trained on purpose: its hypotheses have varied lengths (so </s> is chosen at
    different steps for different sentences), and beam search sometimes beats greedy.
    Returns (model in eval mode, id examples).
    """
    examples, V = char_examples(make_pairs(30, seed=5, min_len=1, max_len=7))
    model = tiny_model(V, V, seed=seed, init_range=0.1).train()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    batch = collate(examples)
    for _ in range(steps):
        logits = model(batch.src, batch.src_len, batch.tgt_in)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(), ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval(), examples


def padded_inputs(tgt_steps: int = 5):
    """A fixed batch for protocol tests: 3 sources of lengths 7, 5, 2 (padded) and tgt_in."""
    torch.manual_seed(1)
    src = torch.randint(4, 13, (3, 7))
    src_len = torch.tensor([7, 5, 2])
    for i, n in enumerate(src_len.tolist()):
        src[i, n:] = 0
    tgt_in = torch.cat([torch.full((3, 1), 2), torch.randint(4, 11, (3, tgt_steps))], 1)
    return src, src_len, tgt_in


REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def running_server(*args: str, timeout: float = 60.0):
    """`seq2seq serve ARGS --port 0` in a subprocess (this checkout's package); yields
    (process, base URL) once /healthz answers, with its stderr lines so far in `process.log`
    (a list that keeps growing); stops it with SIGTERM at the end, if it still runs."""
    import httpx2

    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "seq2seq", "serve", *args, "--port", "0", "--threads", "1"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    proc.log = []
    reader = threading.Thread(target=lambda: proc.log.extend(iter(proc.stderr.readline, "")))
    reader.start()
    try:
        url, deadline = None, time.monotonic() + timeout
        while url is None or not _healthy(httpx2, url):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("seq2seq serve did not come up:\n" + "".join(proc.log))
            found = re.search(r"serving .* at (http://\S+/) ", "".join(proc.log))
            url = found.group(1) if found else None
            time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)


def _healthy(httpx2, url: str) -> bool:
    try:
        return httpx2.get(url + "healthz", timeout=2, trust_env=False).status_code == 200
    except httpx2.TransportError:
        return False


# -- speech: tones for letters, a manifest and a tiny config ---------------------------------

SPEECH_TEXTS = ["ab", "ba", "abc", "cab", "bca", "cc"]


def chirps(text: str, rate: int = 16000) -> np.ndarray:
    """A stand-in for speech: each letter a tone of its own for 0.15 s, then 0.05 s of quiet."""
    parts = []
    for ch in text:
        t = np.arange(int(0.15 * rate)) / rate
        parts += [0.4 * np.sin(2 * np.pi * (300 + 250 * (ord(ch) - 97)) * t), np.zeros(800)]
    return np.concatenate(parts).astype(np.float32)


def speech_corpus(root: Path) -> Path:
    """`root` with wav/u{i}.wav (the chirps of SPEECH_TEXTS) and train.tsv listing them."""
    from seq2seq.data.audio import write_wav  # soundfile: the speech extra

    (root / "wav").mkdir()
    for i, text in enumerate(SPEECH_TEXTS):
        write_wav(root / "wav" / f"u{i}.wav", chirps(text))
    rows = [f"wav/u{i}.wav\t{text}" for i, text in enumerate(SPEECH_TEXTS)]
    (root / "train.tsv").write_text("\n".join(rows) + "\n")
    return root


def speech_config(corpus: Path, max_steps: int, **model) -> Config:
    """A tiny joint CTC/attention speech model over `speech_corpus(corpus)` (train = dev)."""
    return config_from_dict(
        {
            "data": {
                "dataset": "speech",
                "tgt_tokenizer": {"kind": "char"},
                "reverse_source": False,
                "speech": {
                    "train": str(corpus / "train.tsv"),
                    "dev": str(corpus / "train.tsv"),
                    "n_mels": 40,
                    "specaugment": {
                        "freq_masks": 1,
                        "freq_width": 8,
                        "time_masks": 1,
                        "time_width": 10,
                    },
                },
            },
            "model": {
                "type": "speech",
                "features": 40,
                "listener_hidden": 16,
                "speller_hidden": 16,
                "emb_size": 8,
                "pyramid_levels": 2,
                "ctc_weight": 0.5,
                **model,
            },
            "train": {
                "optimizer": "adam",
                "lr": 0.01,
                "schedule": "constant",
                "batch_size": 2,
                "max_steps": max_steps,
                "valid_every": 3,
                "metric": "asr_cer",
                "tensorboard": False,
            },
        }
    )
