"""Ctrl-C and SIGTERM finish the current training step, so a resumable checkpoint is saved."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class StopFlag:
    """Set by the first Ctrl-C / SIGTERM; the loop checks it after each step."""

    requested: bool = False
    signum: int = signal.SIGINT  # the signal that set it


@contextmanager
def finish_the_step(flag: StopFlag, log: Callable[[str], None]) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM, which batch schedulers send before they kill a job): set
    `flag` so training stops after this step and saves. A second Ctrl-C aborts at once;
    after a SIGTERM, signals are ignored until the step is saved (a parent passing the stop
    on must not abort it). Outside the main thread, signals are left alone."""
    signals = (signal.SIGINT, signal.SIGTERM)
    first = []

    def handler(signum, frame):
        if flag.requested:
            if signum == signal.SIGINT and first == [signal.SIGINT]:
                raise KeyboardInterrupt
            return
        flag.requested, flag.signum = True, signum
        first.append(signum)
        if signum == signal.SIGINT:
            log("stopping after this step (Ctrl-C again to abort without saving)")
        else:
            log("SIGTERM: stopping after this step")

    try:
        previous = {s: signal.signal(s, handler) for s in signals}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
