"""TensorBoard event files and learning curves: what the trainer measured, readable by
TensorBoard's own reader and equal to metrics.jsonl; a run without the package trains on
after one log line; `seq2seq plot` draws RUN/metrics.jsonl."""

from __future__ import annotations

import json
import sys

import pytest
from helpers import tiny_config, write_pairs

from seq2seq.cli import main
from seq2seq.training.loop import Trainer

MEMORISE_STEPS, VALID_EVERY = 150, 50  # conftest's memorised run


def _events(run_dir):
    pytest.importorskip("tensorboard", reason="the `tensorboard` extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tensorboard"))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_event_files_hold_the_runs_numbers(memorised):
    run_dir, _, _ = memorised
    scalars = _events(run_dir)
    entries = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    validations = [e["step"] for e in entries]
    assert validations == [50, 100, 150]
    for key in ("dev_loss", "dev_ppl", "dev_wer", "dev_per", "train_loss"):
        tag = "dev/train_loss" if key == "train_loss" else f"dev/{key[4:]}"
        assert [s for s, _ in scalars[tag]] == validations
        assert [v for _, v in scalars[tag]] == pytest.approx([e[key] for e in entries], rel=1e-6)
    every_50 = list(range(50, MEMORISE_STEPS + 1, 50))
    for tag in ("train/loss", "train/lr", "train/tokens_per_s", "train/grad_norm"):
        assert [s for s, _ in scalars[tag]] == every_50, tag
    assert [v for _, v in scalars["train/lr"]] == pytest.approx([0.02] * 3)  # constant schedule
    assert all(v > 0 for _, v in scalars["train/grad_norm"] + scalars["train/tokens_per_s"])
    # the progress bar's loss at a validation step is that validation's training loss
    assert [v for _, v in scalars["train/loss"]] == pytest.approx(
        [e["train_loss"] for e in entries], rel=1e-6
    )


def test_without_the_package_one_line_and_no_event_files(memorised, tmp_path, monkeypatch):
    _, pairs, _ = memorised

    tsv = write_pairs(tmp_path / "train.tsv", pairs)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    lines = []
    trainer = Trainer(tiny_config(tsv), tmp_path / "run", log=lines.append)
    assert [ln for ln in lines if "tensorboard" in ln] == [
        "tensorboard: not installed, so no event files (pip install 'seq2seq[tensorboard]', "
        "or set train.tensorboard: false to silence this)"
    ]
    assert trainer.logbook.writer is None
    assert not (tmp_path / "run" / "tensorboard").exists()


def test_switched_off_no_line_and_no_event_files(memorised, tmp_path):
    _, pairs, _ = memorised

    tsv = write_pairs(tmp_path / "train.tsv", pairs)
    lines = []
    trainer = Trainer(
        tiny_config(tsv, train={"tensorboard": False}), tmp_path / "run", log=lines.append
    )
    assert not [ln for ln in lines if "tensorboard" in ln]
    assert trainer.logbook.writer is None
    assert not (tmp_path / "run" / "tensorboard").exists()


def test_plot_draws_the_learning_curves(memorised, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the `plot` extra (matplotlib) is not installed")
    run_dir, _, _ = memorised
    out = tmp_path / "curves.png"
    assert main(["plot", str(run_dir), "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert capsys.readouterr().out.strip() == f"wrote {out}"


def test_plot_of_a_folder_without_metrics_is_one_line(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {tmp_path}: no metrics.jsonl; pass a run directory of `seq2seq train` that "
        "has validated at least once"
    ]


def test_plot_overlays_several_runs_each_named_in_every_panel(memorised, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="the `plot` extra (matplotlib) is not installed")
    from matplotlib.figure import Figure

    run_dir, _, _ = memorised
    other = tmp_path / "other"
    other.mkdir()
    (other / "metrics.jsonl").write_text((run_dir / "metrics.jsonl").read_text())
    drawn = []
    savefig = Figure.savefig
    monkeypatch.setattr(
        Figure, "savefig", lambda fig, *a, **k: (drawn.append(fig), savefig(fig, *a, **k))
    )
    out = tmp_path / "both.png"
    assert main(["plot", str(run_dir), str(other), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loss, metric, lr = drawn[0].axes
    for ax in (loss, metric, lr):
        labels = [line.get_label() for line in ax.get_lines()]
        for name in (run_dir.name, "other"):
            assert any(label.startswith(f"{name}: ") for label in labels), (ax.get_title(), labels)
    assert len(loss.get_lines()) == 4  # train and dev of each run


def test_plot_of_several_runs_without_out_is_one_line(memorised, tmp_path, capsys):
    run_dir, _, _ = memorised
    assert main(["plot", str(run_dir), str(tmp_path)]) == 2  # the second has no metrics
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main(["plot", str(run_dir), str(run_dir)]) == 2
    assert "given twice" in capsys.readouterr().err
