"""Checkpoints: atomic save, safe loading, clear errors, averaging, finding in a run dir."""

from __future__ import annotations

import pickle

import pytest
import torch
from helpers import tiny_model

from seq2seq import checkpoints
from seq2seq.errors import UserError


def _ckpt(seed=0):
    model = tiny_model(seed=seed)
    return {
        "config": {"model": {"layers": 2}},
        "processor": {"src_vocab": ["<pad>", "<unk>", "<s>", "</s>", "a"]},
        "model": {k: v.clone() for k, v in model.state_dict().items()},
        "counters": {"step": 3, "best": None},
    }


def test_save_is_atomic_and_loads_with_weights_only(tmp_path):
    path = tmp_path / "deep" / "ck.pt"
    obj = _ckpt()
    checkpoints.save(obj, path)
    checkpoints.save(obj, path)  # overwriting goes through the same temp-file path
    assert sorted(p.name for p in path.parent.iterdir()) == ["ck.pt"]
    raw = torch.load(path, weights_only=True)
    assert raw["format_version"] == checkpoints.FORMAT_VERSION
    assert raw["counters"] == {"step": 3, "best": None}
    loaded = checkpoints.load(path)
    for k, v in obj["model"].items():
        assert torch.equal(loaded["model"][k], v)


def test_failed_save_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "ck.pt"
    checkpoints.save(_ckpt(), path)
    before = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError)):  # a lambda cannot be pickled
        checkpoints.save({"bad": lambda: None}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck.pt"]


def test_load_rejects_a_random_file(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(UserError, match="junk.pt: not a seq2seq checkpoint"):
        checkpoints.load(junk)


def test_load_rejects_a_torch_file_without_format_version(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save({"model": {}}, path)
    with pytest.raises(UserError, match="plain.pt"):
        checkpoints.load(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(UserError, match="nope.pt: checkpoint not found"):
        checkpoints.load(tmp_path / "nope.pt")


def test_average_of_two_copies_equals_the_checkpoint(tmp_path):
    obj = _ckpt()
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    checkpoints.save(obj, a)
    checkpoints.save(obj, b)
    avg = checkpoints.average([a, b])
    assert avg["model"].keys() == obj["model"].keys()
    for k, v in obj["model"].items():
        assert torch.equal(avg["model"][k], v)
        assert avg["model"][k].dtype == v.dtype
    assert avg["config"] == obj["config"] and avg["processor"] == obj["processor"]


def test_average_of_two_different_checkpoints_is_the_mean(tmp_path):
    one, two = _ckpt(seed=0), _ckpt(seed=1)
    checkpoints.save(one, tmp_path / "1.pt")
    checkpoints.save(two, tmp_path / "2.pt")
    avg = checkpoints.average([tmp_path / "1.pt", tmp_path / "2.pt"])
    for k in one["model"]:
        assert torch.allclose(avg["model"][k], (one["model"][k] + two["model"][k]) / 2)


def test_average_refuses_checkpoints_of_different_runs(tmp_path):
    one, other = _ckpt(), _ckpt()
    other["processor"] = {"src_vocab": ["<pad>", "<unk>", "<s>", "</s>", "b"]}
    checkpoints.save(one, tmp_path / "1.pt")
    checkpoints.save(other, tmp_path / "2.pt")
    with pytest.raises(UserError, match="2.pt"):
        checkpoints.average([tmp_path / "1.pt", tmp_path / "2.pt"])


def test_find_prefers_best_then_last(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(UserError, match="not a model directory"):
        checkpoints.find(tmp_path)
    checkpoints.save(_ckpt(), tmp_path / "checkpoints" / "last.pt")
    assert checkpoints.find(tmp_path).name == "last.pt"
    checkpoints.save(_ckpt(), tmp_path / "checkpoints" / "best.pt")
    assert checkpoints.find(tmp_path).name == "best.pt"
    assert checkpoints.find(tmp_path, "last").name == "last.pt"
    assert checkpoints.find(tmp_path / "checkpoints" / "last.pt").name == "last.pt"
    with pytest.raises(UserError, match="no such model directory"):
        checkpoints.find(tmp_path / "missing")


def test_keep_recent_keeps_the_last_n_and_average_cli_uses_them(tmp_path, capsys):
    from seq2seq.cli import main

    folder = tmp_path / "run" / "checkpoints"
    for step in (10, 20, 30, 40):
        checkpoints.keep_recent(_ckpt(seed=step), folder, step, keep=3)
    assert [p.name for p in checkpoints.recent(folder)] == [
        f"step-{s:08d}.pt" for s in (20, 30, 40)
    ]
    assert main(["average", str(tmp_path / "run"), "--last", "2"]) == 0
    avg = checkpoints.load(folder / "averaged.pt")
    a, b = (checkpoints.load(folder / f"step-{s:08d}.pt") for s in (30, 40))
    for k in avg["model"]:
        assert torch.allclose(avg["model"][k], (a["model"][k] + b["model"][k]) / 2)
    assert main(["average", str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
