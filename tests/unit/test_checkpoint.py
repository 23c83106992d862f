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
    with pytest.raises(UserError, match="junk.pt: not a safe seq2seq checkpoint"):
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


# -- the one safe reader: every broken file is one line naming it ---------------------------


class _RunsCode:
    """Pickles as a call of os.getcwd: what an unsafe checkpoint smuggles in."""

    def __reduce__(self):
        import os

        return (os.getcwd, ())


def _torch_bytes(obj) -> bytes:
    import io

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _good_bytes() -> bytes:
    return _torch_bytes({**_ckpt(), "format_version": checkpoints.FORMAT_VERSION})


BROKEN = {
    "empty": (lambda: b"", "an empty file"),
    "truncated": (lambda: _good_bytes()[: len(_good_bytes()) // 2], "truncated"),
    "text": (lambda: b"hello, not a checkpoint\n", "not a torch checkpoint"),
    "pickle with code": (lambda: _torch_bytes({"x": _RunsCode()}), "not a safe seq2seq"),
    "plain pickle": (lambda: pickle.dumps({"model": {}}), "not a safe seq2seq"),
    "a list": (lambda: _torch_bytes([1, 2]), "not a seq2seq checkpoint"),
    "another format": (
        lambda: _torch_bytes({**_ckpt(), "format_version": 99}),
        "checkpoint format 99",
    ),
    "no model": (
        lambda: _torch_bytes({"config": {}, "processor": {}, "format_version": 1}),
        "without its model",
    ),
}


@pytest.mark.parametrize("kind", BROKEN)
def test_load_refuses_a_broken_file_in_one_line_naming_it(tmp_path, kind):
    make, says = BROKEN[kind]
    path = tmp_path / "broken.pt"
    path.write_bytes(make())
    with pytest.raises(UserError) as e:
        checkpoints.load(path)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and says in message
    assert "\n" not in message
    assert "weights_only" not in message  # torch's advice to turn the safety off is not quoted


def test_load_refuses_a_directory(tmp_path):
    with pytest.raises(UserError, match="a directory, not a checkpoint file"):
        checkpoints.load(tmp_path)


def test_load_refuses_an_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    checkpoints.save(_ckpt(), path)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", denied)  # chmod does not stop root, who runs CI here
    with pytest.raises(UserError, match=r"ck.pt: cannot be read \(permission denied\)"):
        checkpoints.load(path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c["config"].update(model={"layers": "four"}),
        lambda c: c["config"].update(model={"type": ["rnn"]}),
        lambda c: c["config"].update(nonsense=1),
        lambda c: c["processor"].pop("tgt_vocab"),
        lambda c: c["processor"].update(src_vocab="abc"),
    ],
)
def test_read_refuses_a_broken_config_or_vocabulary(tmp_path, damage):
    ckpt = _ckpt()
    ckpt["processor"] = {
        "src_vocab": ["<pad>", "<unk>", "<s>", "</s>", "a"],
        "tgt_vocab": ["<pad>", "<unk>", "<s>", "</s>", "b"],
        "src_spm": None,
        "tgt_spm": None,
    }
    checkpoints.save(ckpt, tmp_path / "good.pt")
    assert checkpoints.read(tmp_path / "good.pt").config.model.layers == 2
    damage(ckpt)
    checkpoints.save(ckpt, tmp_path / "bad.pt")
    with pytest.raises(UserError) as e:
        checkpoints.read(tmp_path / "bad.pt")
    assert str(e.value).startswith(f"{tmp_path / 'bad.pt'}: ") and "\n" not in str(e.value)


def test_a_zero_byte_checkpoint_is_one_line_in_translate_average_and_load(tmp_path, capsys):
    import seq2seq
    from seq2seq.cli import main

    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "best.pt").write_bytes(b"")
    (folder / "step-00000010.pt").write_bytes(b"")
    src = tmp_path / "in.txt"
    src.write_text("abc\n")
    with pytest.raises(UserError, match="an empty file"):
        seq2seq.load(tmp_path / "run")
    assert main(["translate", "--model", str(tmp_path / "run"), "--input", str(src)]) == 2
    assert main(["average", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and err.count("an empty file") == 2
