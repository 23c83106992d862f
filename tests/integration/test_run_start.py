"""How a run starts: what a resume may change (logged and kept in the run's history) and
what it refuses before writing anything; a run that fails to start writes nothing; the temp
files of a checkpoint write a killed run left are removed."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import make_pairs, tiny_config, write_pairs

from seq2seq import checkpoints
from seq2seq.errors import UserError
from seq2seq.training import start, train


def quiet(msg):
    pass


@pytest.fixture(scope="module")
def tsv(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("data") / "train.tsv", make_pairs(20, seed=2))


@pytest.fixture
def run(tsv, tmp_path):
    """A run of 2 Adam steps (lr 0.02, 30 epochs) to resume."""
    run = tmp_path / "run"
    train(tiny_config(tsv, train={"max_steps": 2, "epochs": 30}), run, progress=False, log=quiet)
    return run


def _files(run):
    return {p.relative_to(run): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"train": {"optimizer": "sgd"}}, 'train.optimizer = "adam", not "sgd"'),
        ({"train": {"momentum": 0.9}}, "train.momentum = 0.0, not 0.9"),
        ({"train": {"batch_size": 7}}, "train.batch_size = 20, not 7"),
        ({"train": {"schedule": "noam"}}, 'train.schedule = "constant", not "noam"'),
        ({"data": {"max_src_len": 50}}, "data.max_src_len = 100, not 50"),
        ({"model": {"dropout": 0.1}}, "model.dropout = 0.0, not 0.1"),
    ],
)
def test_a_resume_refuses_a_change_before_writing_anything(tsv, run, change, says):
    """Adam resumed as SGD ended in torch's KeyError: 'momentum', after config.yaml had been
    rewritten to sgd; now it is one line, and the run is left byte for byte as it was."""
    before = _files(run)
    cfg = tiny_config(tsv, **{**change, "train": {"max_steps": 4, **change.get("train", {})}})
    with pytest.raises(UserError) as e:
        train(cfg, run, progress=False, log=quiet)
    message = str(e.value)
    assert message.startswith(f"{run / 'checkpoints' / 'last.pt'}: ") and says in message
    assert str(run / "config.yaml") in message and "\n" not in message
    assert _files(run) == before


def test_a_refusal_names_every_changed_key(tsv, run):
    cfg = tiny_config(tsv, train={"optimizer": "sgd", "seed": 5, "max_steps": 4})
    with pytest.raises(UserError, match=r"\(also changed: train\.seed\)"):
        train(cfg, run, progress=False, log=quiet)


def test_a_resume_applies_a_new_lr_logs_it_and_keeps_the_history(tsv, run):
    logs = []
    cfg = tiny_config(tsv, train={"max_steps": 4, "epochs": 30, "lr": 0.005})
    assert train(cfg, run, progress=False, log=logs.append)["steps"] == 4
    assert "resuming with train.lr 0.02 -> 0.005" in logs
    assert "resuming with train.max_steps 2 -> 4" in logs
    last = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert last["optimizer"]["param_groups"][0]["lr"] == 0.005  # applied, not just recorded
    (entry,) = [json.loads(x) for x in (run / start.HISTORY).read_text().splitlines()]
    assert entry["step"] == 2 and entry["time"].endswith("+00:00")
    assert entry["changes"] == {"train.lr": [0.02, 0.005], "train.max_steps": [2, 4]}
    assert "lr: 0.005" in (run / "config.yaml").read_text()


def test_a_decode_change_is_allowed_and_logged(tsv, run):
    logs = []
    cfg = tiny_config(tsv, train={"max_steps": 2, "epochs": 30}, decode={"beam": 2})
    train(cfg, run, progress=False, log=logs.append)
    assert "resuming with decode.beam 3 -> 2" in logs
    assert "decode.beam" in (run / start.HISTORY).read_text()


def test_the_same_config_resumes_without_a_history_entry(tsv, run):
    cfg = tiny_config(tsv, train={"max_steps": 2, "epochs": 30})
    train(cfg, run, progress=False, log=quiet)
    assert not (run / start.HISTORY).exists()


def test_every_train_key_is_either_allowed_or_refused_with_a_reason():
    from seq2seq.config import TrainConfig

    keys = set(TrainConfig.__dataclass_fields__)
    assert keys == set(start.MAY_CHANGE) | set(start.REFUSED_BECAUSE)
    assert not set(start.MAY_CHANGE) & set(start.REFUSED_BECAUSE)


@pytest.mark.parametrize("existing", [False, True])
def test_a_run_that_fails_to_start_writes_nothing(tsv, tmp_path, existing):
    """A start-up error left an empty --out folder behind; a folder the user made stays."""
    out = tmp_path / "runs" / "new"
    if existing:
        out.mkdir(parents=True)
    cfg = tiny_config(tsv, data={"max_src_len": 2, "dev_fraction": 0.2})  # every pair too long
    with pytest.raises(UserError, match="no training pairs left"):
        train(cfg, out, progress=False, log=quiet)
    assert out.is_dir() == existing and (not existing or not any(out.iterdir()))
    assert existing or not (tmp_path / "runs").exists()


def test_a_file_as_the_run_directory_is_one_line(tsv, tmp_path):
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    with pytest.raises(UserError, match="notes.txt: a file, not a run directory"):
        train(tiny_config(tsv), out, progress=False, log=quiet)
    assert out.read_text() == "mine"


def test_start_removes_what_a_checkpoint_write_killed_midway_left(tsv, run):
    folder = run / "checkpoints"
    (folder / "last.pt.abc123.tmp").write_bytes(b"x" * 1000)  # as checkpoints.save names them
    (folder / "best.pt.k9z.tmp").write_bytes(b"")
    (folder / "notes.tmp").write_bytes(b"not ours")
    (run / "config.yaml.tmp").write_bytes(b"train: {")  # save_config's, killed mid-write
    logs = []
    train(
        tiny_config(tsv, train={"max_steps": 3, "epochs": 30}), run, progress=False, log=logs.append
    )
    assert checkpoints.unfinished(folder) == []
    assert (folder / "notes.tmp").exists()  # never delete what the run did not write
    assert not (run / "config.yaml.tmp").exists()
    assert any("removed 3 unfinished write(s) (0.0 MB)" in m for m in logs)


def test_metrics_past_the_step_a_run_starts_from_are_dropped(tmp_path):
    """A run killed after writing a validation's line but before saving last.pt redoes that
    validation; its line (and a line torn by the kill) must not stay."""
    lines = [json.dumps({"step": s, "dev_loss": 1.0}) + "\n" for s in (2, 4, 6)]
    (tmp_path / start.METRICS).write_text("".join(lines) + '{"step": 8, "dev')
    assert start.trim_metrics(tmp_path, 4) == 2
    assert (tmp_path / start.METRICS).read_text() == "".join(lines[:2])
    assert start.trim_metrics(tmp_path, 4) == 0
    assert [p.name for p in tmp_path.iterdir()] == [start.METRICS]
