"""The server's counters, gauges and histograms, written in Prometheus' text format by hand.

Thread-safe: the event loop counts answers and latencies, each model's worker thread its
batches. `/metrics` renders them (exposition format 0.0.4).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def size_buckets(largest: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to `largest` (which is always the last bucket)."""
    out, b = [], 1
    while b < largest:
        out.append(b)
        b *= 2
    return (*out, largest)


class Histogram:
    """Cumulative buckets, sum and count of observed values."""

    def __init__(self, buckets: Iterable[float]):
        self.buckets = tuple(buckets)
        self.counts = [0] * len(self.buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for i, upper in enumerate(self.buckets):
            if value <= upper:
                self.counts[i] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str, labels: str) -> list[str]:
        sep = "," if labels else ""
        out = [
            f'{name}_bucket{{{labels}{sep}le="{_number(b)}"}} {n}'
            for b, n in zip(self.buckets, self.counts)
        ]
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}')
        out.append(f"{name}_sum{{{labels}}} {self.sum:.6g}")
        out.append(f"{name}_count{{{labels}}} {self.count}")
        return out


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


class Metrics:
    """What `/metrics` shows: answers by path and status, per model the sentences translated
    (for a speech model: audio files transcribed), the batch sizes (sentences and requests),
    the latency of translate and transcribe requests, and the queue length (read live from
    `queues`: model name -> sentences waiting)."""

    def __init__(self, models: list[str], max_batch: int, queues: Callable[[], dict[str, int]]):
        self._lock = threading.Lock()
        self._queues = queues
        self.answers: Counter[tuple[str, int]] = Counter()
        self.sentences: Counter[str] = Counter({m: 0 for m in models})
        sizes = size_buckets(max(max_batch, 64))
        self.batch_sentences = {m: Histogram(sizes) for m in models}
        self.batch_requests = {m: Histogram(sizes) for m in models}
        self.latency = {m: Histogram(LATENCY_BUCKETS) for m in models}
        self.most_requests = {m: 0 for m in models}  # the most requests one batch joined

    def answered(self, path: str, status: int) -> None:
        with self._lock:
            self.answers[(path, status)] += 1

    def batch(self, model: str, sentences: int, requests: int) -> None:
        with self._lock:
            self.sentences[model] += sentences
            self.batch_sentences[model].observe(sentences)
            self.batch_requests[model].observe(requests)
            self.most_requests[model] = max(self.most_requests[model], requests)

    def took(self, model: str, seconds: float) -> None:
        with self._lock:
            self.latency[model].observe(seconds)

    def render(self) -> str:
        with self._lock:
            out = _family("seq2seq_requests_total", "counter", "HTTP answers by path and status")
            out += [
                f'seq2seq_requests_total{{path="{p}",status="{s}"}} {n}'
                for (p, s), n in sorted(self.answers.items())
            ]
            out += _family("seq2seq_errors_total", "counter", "HTTP answers with status >= 400")
            out += [
                f'seq2seq_errors_total{{path="{p}",status="{s}"}} {n}'
                for (p, s), n in sorted(self.answers.items())
                if s >= 400
            ]
            out += _family(
                "seq2seq_sentences_total",
                "counter",
                "sentences translated (or audio files transcribed)",
            )
            out += [
                f'seq2seq_sentences_total{{model="{m}"}} {n}' for m, n in self.sentences.items()
            ]
            out += _family(
                "seq2seq_queue_sentences", "gauge", "sentences (or audio files) waiting for a batch"
            )
            out += [
                f'seq2seq_queue_sentences{{model="{m}"}} {n}' for m, n in self._queues().items()
            ]
            for name, table, what in (
                (
                    "seq2seq_batch_sentences",
                    self.batch_sentences,
                    "sentences (or audio files) per batched search",
                ),
                ("seq2seq_batch_requests", self.batch_requests, "requests joined in one batch"),
                (
                    "seq2seq_request_seconds",
                    self.latency,
                    "translate and transcribe requests, arrival to answer",
                ),
            ):
                out += _family(name, "histogram", what)
                for model, h in table.items():
                    out += h.lines(name, f'model="{model}"')
        return "\n".join(out) + "\n"


def _family(name: str, kind: str, help: str) -> list[str]:
    return [f"# HELP {name} {help}", f"# TYPE {name} {kind}"]
