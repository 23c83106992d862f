"""Nothing lost: `seq2seq train` killed with SIGKILL at random points, some of them inside a
checkpoint write, resumes to the same final weights, validations and checkpoints as an
uninterrupted run, and leaves no temp files.

Each run is the real command in a subprocess. The kills inside a checkpoint write come from
a `sitecustomize.py` this test puts first on the subprocess's PYTHONPATH (no hook in the
library): it wraps `os.fsync`, which `checkpoints.save` calls once the temp file is written
and before renaming it, and SIGKILLs the process at the Nth call. The other kills land at a
random moment after the Kth validation line. The kill points come from the seed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from helpers import make_pairs, tiny_config_dict, write_pairs

REPO = Path(__file__).resolve().parents[2]
STEPS = 24  # 4 batches per epoch; validation (best.pt, step-N.pt, last.pt) every 2 steps

HOOK = """
import os, signal

_kill_at = int(os.environ.get("FAULT_KILL_AT_FSYNC", "0"))
_count_to = os.environ.get("FAULT_COUNT_FSYNCS")
_fsync, _calls = os.fsync, [0]


def fsync(fd):
    _calls[0] += 1
    if _count_to:
        with open(_count_to, "a") as f:
            f.write("x")
    if _calls[0] == _kill_at:  # the temp file is written, not yet renamed
        os.kill(os.getpid(), signal.SIGKILL)
    return _fsync(fd)


os.fsync = fsync
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("fault")
    (root / "hook").mkdir()
    (root / "hook" / "sitecustomize.py").write_text(HOOK)
    raw = tiny_config_dict(
        write_pairs(root / "train.tsv", make_pairs(20, seed=3)),
        write_pairs(root / "dev.tsv", make_pairs(5, seed=4)),
        model={"layers": 1, "hidden_size": 32, "emb_size": 16, "dropout": 0.3},
        train={
            "batch_size": 6,
            "max_steps": STEPS,
            "valid_every": 2,
            "lr": 0.01,
            "metric": "loss",
            "schedule": "plateau",  # the lr follows the validations: a lost one shows
            "plateau_patience": 1,
            "keep_checkpoints": 3,
            "threads": 1,
        },
    )
    (root / "config.yaml").write_text(yaml.safe_dump(raw))
    return root


def _command(root: Path, run: Path) -> list[str]:
    train = ["train", str(root / "config.yaml"), "--out", str(run), "--no-progress"]
    return [sys.executable, "-m", "seq2seq", *train]


def _env(root: Path, **extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(root / "hook"), str(REPO)])
    return {**os.environ, "PYTHONPATH": path, "SEQ2SEQ_KERNELS": "1", **extra}


def _complete(root: Path, run: Path, **env: str) -> None:
    done = subprocess.run(
        _command(root, run), env=_env(root, **env), cwd=REPO, capture_output=True, timeout=180
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def _kill_inside_a_write(root: Path, run: Path, n: int) -> None:
    """Run until the Nth checkpoint write has its temp file and SIGKILL it there."""
    done = subprocess.run(
        _command(root, run),
        env=_env(root, FAULT_KILL_AT_FSYNC=str(n)),
        cwd=REPO,
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert list(run.rglob("*.tmp")), "the kill should leave the write's temp file"


def _kill_after(root: Path, run: Path, validations: int, delay: float) -> None:
    """SIGKILL at `delay` seconds after the run's `validations`-th validation line."""
    proc = subprocess.Popen(
        _command(root, run),
        env=_env(root),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = 0
    for line in proc.stderr:
        seen += line.startswith("step ")
        if seen == validations:
            time.sleep(delay)
            proc.kill()
            break
    proc.stderr.close()
    assert proc.wait(timeout=60) == -signal.SIGKILL  # killed, not finished


def _outcome(run: Path) -> dict:
    """What must not depend on the kills: weights, validations, checkpoints, temp files."""
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    folder = run / "checkpoints"
    return {
        "last": torch.load(folder / "last.pt", weights_only=True)["model"],
        "best": torch.load(folder / "best.pt", weights_only=True)["model"],
        "validations": [(e["step"], e["dev_loss"], e["lr"]) for e in lines],
        "files": sorted(p.name for p in folder.iterdir()),
        "temporaries": sorted(p.name for p in run.rglob("*.tmp")),
    }


@pytest.fixture(scope="module")
def uninterrupted(setup):
    run = setup / "uninterrupted"
    _complete(setup, run, FAULT_COUNT_FSYNCS=str(setup / "fsyncs"))
    writes = len((setup / "fsyncs").read_text())
    assert writes >= 2 * STEPS // 2  # last.pt and step-N.pt at every validation, best.pt often
    return _outcome(run)


def _assert_same(got: dict, want: dict) -> None:
    for part in ("last", "best"):
        assert got[part].keys() == want[part].keys()
        for k in want[part]:
            assert torch.equal(got[part][k], want[part][k]), (part, k)
    assert got["validations"] == want["validations"]  # none lost, none twice
    assert got["files"] == want["files"]
    assert got["temporaries"] == []


@pytest.mark.parametrize("seed", [0, 1])
def test_killed_anywhere_the_run_resumes_to_the_uninterrupted_result(setup, uninterrupted, seed):
    rng = random.Random(seed)
    run = setup / f"killed-{seed}"
    _kill_inside_a_write(setup, run, rng.randint(1, 8))
    _kill_after(setup, run, rng.randint(1, 4), rng.uniform(0.0, 0.15))
    _complete(setup, run)
    _assert_same(_outcome(run), uninterrupted)
