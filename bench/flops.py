"""Cost model: FLOPs per target token of the LSTM seq2seq model, and measured throughput as a
share of this machine's measured matmul peak in the dtype used.

A multiply-add counts as 2 FLOPs; training counts 3x the forward pass (backward = 2x forward).
Only matrix products are counted (the gates' elementwise work, softmax and the optimizer are
small beside them), so the share is an upper bound on how much of the machine's matmul speed the
model turns into useful work.

    .venv/bin/python bench/flops.py                    # the bench model, figures from compare.json
    .venv/bin/python bench/flops.py --preset paper --tok-s 6300   # the paper's 4 x 1000, 80k softmax
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from machine import one_line, rows_of

from seq2seq.precision import bf16_runs, native_bf16

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Model:
    layers: int = 2
    emb: int = 256
    hidden: int = 512
    src_vocab: int = 10_000
    tgt_vocab: int = 10_000
    attention: bool = False  # Luong general + input feeding, as in bench/compare.py
    src_per_tgt: float = 0.96  # source per target token (Multi30k train, de 12.6 / en 13.1 words)
    src_len: float = 12.6  # mean source length, for the attention's per-step cost

    def lstm(self, inp: int) -> float:
        """One LSTM step of one layer: 4 gates from the input and the recurrent state."""
        return 2 * 4 * self.hidden * (inp + self.hidden)

    def encoder_per_src_token(self) -> float:
        return sum(self.lstm(self.emb if i == 0 else self.hidden) for i in range(self.layers))

    def decoder_per_tgt_token(self) -> float:
        first_in = self.emb + (self.hidden if self.attention else 0)  # input feeding
        rnn = sum(self.lstm(first_in if i == 0 else self.hidden) for i in range(self.layers))
        att = 0.0
        if self.attention:
            att += 2 * self.hidden * self.hidden  # general score: W h_t
            att += 2 * 2 * self.src_len * self.hidden  # scores and context over the source
            att += 2 * 2 * self.hidden * self.hidden  # tanh(W [c; h])
        return rnn + att + 2 * self.hidden * self.tgt_vocab  # output layer

    def forward_per_tgt_token(self) -> float:
        return self.encoder_per_src_token() * self.src_per_tgt + self.decoder_per_tgt_token()

    def train_per_tgt_token(self) -> float:
        return 3 * self.forward_per_tgt_token()

    def params(self) -> int:
        enc = self.src_vocab * self.emb
        dec = self.tgt_vocab * self.emb + self.hidden * self.tgt_vocab + self.tgt_vocab
        for i in range(self.layers):
            enc += 4 * self.hidden * ((self.emb if i == 0 else self.hidden) + self.hidden + 2)
            first = self.emb + (self.hidden if self.attention else 0)
            dec += 4 * self.hidden * ((first if i == 0 else self.hidden) + self.hidden + 2)
        if self.attention:
            dec += self.hidden * self.hidden + 2 * self.hidden * self.hidden
        return enc + dec


PRESETS = {
    "bench": Model(),
    "bench-attention": Model(attention=True),
    # Sutskever et al. (2014): 4 x 1000, embeddings 1000, 160k source / 80k target words
    "paper": Model(
        layers=4, emb=1000, hidden=1000, src_vocab=160_000, tgt_vocab=80_000, src_len=30.0
    ),
}


def matmul_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 7) -> float:
    """GFLOP/s of an n^3 matmul in `dtype` on this machine (2 n^3 FLOPs each): the median
    over repeats of the faster of two kernels on CPU. torch.mm takes MKL's sgemm in fp32,
    which on an AMD Zen 5 runs at a quarter of what oneDNN reaches there, while the fused
    LSTM layers use oneDNN; a peak below what a model reaches would be no peak."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    kernels = [lambda: a @ b]
    onednn = dtype == torch.float32 or bf16_runs(torch.device("cpu"))  # no oneDNN bf16 on AVX2
    if device == "cpu" and torch.backends.mkldnn.is_available() and onednn:
        am, bm = a.to_mkldnn(), b.t().contiguous().to_mkldnn()  # linear takes (out, in)
        kernels.append(lambda: torch._C._nn.mkldnn_linear(am, bm))
    best = 0.0
    for kernel in kernels:
        times = []
        for _ in range(repeats + 1):
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            kernel()
            if device == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        best = max(best, 2 * n**3 / statistics.median(times[1:]) / 1e9)
    return best


def measured_rows() -> list[tuple[str, bool, str, float]]:
    """(label, attention, precision, tgt tok/s) of seq2seq's rows in bench/results/compare.json."""
    path = HERE / "results" / "compare.json"
    if not path.is_file():
        return []
    rows = rows_of(json.loads(path.read_text()))
    return [
        (
            r.get("system") or f"{r['peer']} {r.get('version', '')}".strip(),
            r["attention"],
            r.get("precision", "fp32"),
            r["median_tgt_tok_s"],
        )
        for r in rows
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default=None)
    ap.add_argument("--tok-s", type=float, help="a measured training throughput (tgt tokens/s)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    native, why = native_bf16(device)
    # emulated bf16 can run at well under 1 GFLOP/s (AVX2 CPUs): a small product tells as much
    bf16_n = 2048 if native else 256
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16, bf16_n)}
    print(one_line())
    print(
        f"matmul (best kernel): fp32 {peaks['fp32']:,.0f} GFLOP/s at 2048^3, bf16 "
        f"{peaks['bf16']:,.1f} GFLOP/s at {bf16_n}^3 ({'native' if native else 'emulated'}: {why})"
    )
    names = [args.preset] if args.preset else ["bench", "bench-attention", "paper"]
    for name in names:
        m = PRESETS[name]
        print(
            f"{name:16s} {m.params() / 1e6:7.1f} M params  forward {m.forward_per_tgt_token() / 1e6:6.1f} "
            f"MFLOP/tgt token  training {m.train_per_tgt_token() / 1e6:6.1f} MFLOP/tgt token"
        )
    if args.tok_s:
        m = PRESETS[args.preset or "bench"]
        rows = [("given", m.attention, args.precision, args.tok_s)]
    else:
        rows = measured_rows()
    if rows:
        print(
            f"\n{'system':22s} {'attention':9s} {'dtype':5s} {'tgt tok/s':>9s} {'GFLOP/s':>8s} share"
        )
    for label, attention, precision, tok_s in rows:
        m = PRESETS[args.preset] if args.tok_s and args.preset else Model(attention=attention)
        gflops = tok_s * m.train_per_tgt_token() / 1e9
        print(
            f"{label:22s} {str(attention):9s} {precision:5s} {tok_s:9,.0f} {gflops:8.1f} "
            f"{gflops / peaks[precision]:5.0%}"
        )


if __name__ == "__main__":
    main()
