"""Dynamic batching: concurrent requests for one model joined into one batched beam search.

Each model has one queue and one worker thread, so decoding never runs on the event loop. The
worker takes the oldest waiting request and lets others with the same decoding options (beam,
nbest, length_penalty or ctc_weight: a search has one set) join it until the batch holds
`max_batch` items or the oldest has waited `max_wait` seconds; then the whole batch is one
`decode` call (`ServedModel.decode`: `Translator.translate_nbest` over sentences, or
`Transcriber.transcribe` over uploaded audio's waveforms), which sorts it by length and
searches it in batches of `decode_batch` items. While the worker decodes, new requests queue
up, so under load batches fill without waiting. A request is never split: one with more items
than `max_batch` is a batch of its own. The queue is bounded (`max_queue` items waiting):
`submit` refuses past it rather than keep a backlog. If a joined batch fails, each request is
decoded alone, so one bad request cannot fail the others.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .metrics import Metrics


class QueueFull(Exception):
    """The model's queue holds `max_queue` items (or the server is stopping)."""


@dataclass(eq=False)
class Job:
    """One request: its items (sentences, or one waveform), its decoding options, and the
    future that gets its answer."""

    items: list
    options: dict
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    arrived: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> tuple:
        return tuple(sorted(self.options.items()))


class Batcher:
    def __init__(
        self,
        name: str,
        decode: Callable[..., list[list]],
        metrics: Metrics,
        *,
        decode_batch: int,
        max_batch: int,
        max_wait: float,
        max_queue: int,
    ):
        """`decode(items, batch_size=decode_batch, **options)` -> an n-best list per item."""
        self.name, self.decode, self.metrics = name, decode, metrics
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait, max_queue
        self.decode_batch = decode_batch
        self._jobs: deque[Job] = deque()
        self._waiting = 0  # items in _jobs
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None

    @property
    def waiting(self) -> int:
        """Items queued, not yet taken into a batch."""
        return self._waiting

    def start(self) -> None:
        """Start the worker thread (again, after a `close`)."""
        with self._cond:
            self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"decode-{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Refuse new requests, decode those queued, and stop the worker."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()

    def submit(self, items: list, options: dict) -> Job:
        """Queue a request (call on the event loop); its `future` gets a list of n-best lists.
        Raises QueueFull when `max_queue` items are already waiting."""
        loop = asyncio.get_running_loop()
        job = Job(items, options, loop.create_future(), loop)
        with self._cond:
            if self._closing:
                raise QueueFull(f"model {self.name}: the server is stopping")
            if self._waiting + len(items) > self.max_queue:
                raise QueueFull(
                    f"model {self.name}: {self._waiting} inputs are queued (the limit is "
                    f"{self.max_queue}, --max-queue); retry shortly"
                )
            self._jobs.append(job)
            self._waiting += len(items)
            self._cond.notify()
        return job

    def cancel(self, job: Job) -> None:
        """Drop a request that gave up waiting (its timeout), if no batch has taken it yet."""
        with self._cond:
            if job in self._jobs:
                self._jobs.remove(job)
                self._waiting -= len(job.items)
                self._cond.notify()

    # -- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._decode(batch)
            except Exception as e:  # noqa: BLE001 - a bug here must not stop the worker
                for job in batch:
                    _settle(job, error=e)

    def _matching(self, key: tuple) -> list[Job]:
        """The queued jobs that can join a batch of `key`, oldest first, within max_batch
        items (the first always, however long)."""
        taken, total = [], 0
        for job in self._jobs:
            if job.key != key:
                continue
            if taken and total + len(job.items) > self.max_batch:
                break
            taken.append(job)
            total += len(job.items)
        return taken

    def _next_batch(self) -> list[Job] | None:
        """Wait for work and gather a batch around the oldest request; None once closing
        with nothing left. If the oldest leaves (its timeout), start over with the next."""
        with self._cond:
            while True:
                while not self._jobs:
                    if self._closing:
                        return None
                    self._cond.wait()
                first = self._jobs[0]
                deadline = first.arrived + self.max_wait
                while self._jobs and self._jobs[0] is first:
                    batch = self._matching(first.key)
                    full = sum(len(j.items) for j in batch) >= self.max_batch
                    left = deadline - time.monotonic()
                    if full or left <= 0 or self._closing:
                        for job in batch:
                            self._jobs.remove(job)
                        self._waiting -= sum(len(j.items) for j in batch)
                        return batch
                    self._cond.wait(left)

    def _decode(self, batch: list[Job]) -> None:
        items = [x for job in batch for x in job.items]
        self.metrics.batch(self.name, len(items), len(batch))
        try:
            results = self.decode(items, batch_size=self.decode_batch, **batch[0].options)
        except Exception as e:  # noqa: BLE001 - every request gets an answer, even a failure
            if len(batch) > 1:  # find the one that fails; the others still get answers
                for job in batch:
                    self._decode([job])
            else:
                _settle(batch[0], error=e)
            return
        start = 0
        for job in batch:
            _settle(job, results[start : start + len(job.items)])
            start += len(job.items)


def _settle(job: Job, result: list[list] | None = None, error=None) -> None:
    """Hand a result (or an exception) to the request's future on its event loop."""

    def finish(future: asyncio.Future = job.future) -> None:
        if future.done():  # the request timed out and went away
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    try:
        job.loop.call_soon_threadsafe(finish)
    except RuntimeError:  # the loop has closed: nobody is waiting for this answer
        pass
