"""Exact resume: stopping and continuing gives bit-identical parameters to an
uninterrupted run, whether the stop came from a step budget or from Ctrl-C."""

from __future__ import annotations

import json
import signal

import pytest
import torch
from helpers import make_pairs, model_params, tiny_config, write_pairs

from seq2seq.training import train
from seq2seq.training.loop import Interrupted, Trainer

N = 10  # steps; 4 batches per epoch (6, 6, 6, 2), validation every 3 steps


def quiet(msg):
    pass


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    train_tsv = write_pairs(root / "train.tsv", make_pairs(20, seed=3))
    dev_tsv = write_pairs(root / "dev.tsv", make_pairs(5, seed=4))
    return train_tsv, dev_tsv


def resume_config(data, max_steps):
    train_tsv, dev_tsv = data
    return tiny_config(
        train_tsv,
        dev_tsv,
        model={"layers": 2, "hidden_size": 32, "emb_size": 16, "dropout": 0.3},
        train={"batch_size": 6, "max_steps": max_steps, "valid_every": 3, "lr": 0.01},
    )


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    run = tmp_path_factory.mktemp("uninterrupted") / "run"
    summary = train(resume_config(data, N), run, progress=False, log=quiet)
    assert summary["steps"] == N
    return model_params(run / "checkpoints" / "last.pt")


def assert_same_params(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("k", [4, 7])  # 4: end of epoch 0; 7: mid-epoch, off the validation grid
def test_resume_equals_uninterrupted(data, uninterrupted, tmp_path, k):
    run = tmp_path / "run"
    assert train(resume_config(data, k), run, progress=False, log=quiet)["steps"] == k
    first = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert first["counters"]["step"] == k
    logs = []
    assert train(resume_config(data, N), run, progress=False, log=logs.append)["steps"] == N
    assert any(f"resumed from {run / 'checkpoints' / 'last.pt'} at step {k}" in m for m in logs)
    assert_same_params(model_params(run / "checkpoints" / "last.pt"), uninterrupted)


def test_dropout_makes_the_run_depend_on_the_random_state(data, uninterrupted, tmp_path):
    """Guards the test above: a resume that reseeded instead of restoring would differ."""
    run = tmp_path / "run"
    train(resume_config(data, 4), run, progress=False, log=quiet)
    ckpt = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    ckpt["rng"]["torch"] = torch.manual_seed(12345).get_state()
    torch.save(ckpt, run / "checkpoints" / "last.pt")
    train(resume_config(data, N), run, progress=False, log=quiet)
    after = model_params(run / "checkpoints" / "last.pt")
    assert any(not torch.equal(after[k], uninterrupted[k]) for k in after)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_saves_and_resumes_exactly(data, uninterrupted, tmp_path, monkeypatch, signum):
    original = Trainer.train_step

    def step_then_ctrl_c(self, batch, indices=None):
        loss = original(self, batch, indices)
        if self.counters["step"] + 1 == 3:  # the step being finished is the 3rd
            signal.getsignal(signum)(signum, None)  # the installed handler
        return loss

    monkeypatch.setattr(Trainer, "train_step", step_then_ctrl_c)
    before = signal.getsignal(signum)
    run = tmp_path / "run"
    with pytest.raises(Interrupted, match="interrupted at step 3"):
        train(resume_config(data, N), run, progress=False, log=quiet)
    assert signal.getsignal(signum) is before  # the handler is restored
    saved = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert saved["counters"]["step"] == 3
    assert saved["sampler"]["position"] == 3

    monkeypatch.setattr(Trainer, "train_step", original)
    assert train(resume_config(data, N), run, progress=False, log=quiet)["steps"] == N
    assert_same_params(model_params(run / "checkpoints" / "last.pt"), uninterrupted)


@pytest.mark.parametrize(
    "signals, saves",
    [
        ((signal.SIGTERM, signal.SIGINT), True),  # a parent passing a SIGTERM on as Ctrl-C
        ((signal.SIGTERM, signal.SIGTERM), True),
        ((signal.SIGINT, signal.SIGINT), False),  # a person pressing Ctrl-C twice
    ],
)
def test_only_a_second_ctrl_c_aborts_without_saving(data, tmp_path, monkeypatch, signals, saves):
    original = Trainer.train_step

    def step_then_signals(self, batch, indices=None):
        loss = original(self, batch, indices)
        if self.counters["step"] + 1 == 2:
            for signum in signals:
                signal.getsignal(signum)(signum, None)
        return loss

    monkeypatch.setattr(Trainer, "train_step", step_then_signals)
    run = tmp_path / "run"
    with pytest.raises(Interrupted if saves else KeyboardInterrupt) as stopped:
        train(resume_config(data, N), run, progress=False, log=quiet)
    if saves:
        assert stopped.value.signum == signals[0]  # the CLI exits 128 + it: 143 for SIGTERM
        saved = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
        assert saved["counters"]["step"] == 2


def test_stop_request_flag_interrupts_after_the_step(data, tmp_path, monkeypatch):
    original = Trainer.train_step

    def request_stop(self, batch, indices=None):
        loss = original(self, batch, indices)
        self.stop.requested = True
        return loss

    monkeypatch.setattr(Trainer, "train_step", request_stop)
    with pytest.raises(Interrupted):
        train(resume_config(data, N), tmp_path / "run", progress=False, log=quiet)
    saved = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert saved["counters"]["step"] == 1


def test_more_epochs_continue_a_finished_run_exactly(data, tmp_path):
    """Raising `train.epochs` and re-running continues from last.pt as if the run had been
    longer from the start: no second validation of the finished epoch (which would count as a
    miss and halve the plateau schedule's lr)."""

    def config(epochs):
        train_tsv, dev_tsv = data
        return tiny_config(
            train_tsv,
            dev_tsv,
            model={"layers": 1, "hidden_size": 32, "emb_size": 16, "dropout": 0.3},
            train={
                "batch_size": 6,
                "epochs": epochs,
                "max_steps": 0,
                "valid_every": 0,  # at each epoch's end
                "metric": "loss",
                "lr": 0.01,
                "schedule": "plateau",
            },
        )

    longer, extended = tmp_path / "longer", tmp_path / "extended"
    train(config(2), longer, progress=False, log=quiet)
    train(config(1), extended, progress=False, log=quiet)
    train(config(2), extended, progress=False, log=quiet)
    lines = lambda run: (run / "metrics.jsonl").read_text().splitlines()  # noqa: E731
    assert len(lines(extended)) == len(lines(longer)) == 2
    assert_same_params(
        model_params(extended / "checkpoints" / "last.pt"),
        model_params(longer / "checkpoints" / "last.pt"),
    )


def test_a_checkpoint_from_before_a_new_config_key_still_resumes(data, uninterrupted, tmp_path):
    """A key added to the config since the checkpoint was written reads as its default."""
    run = tmp_path / "run"
    train(resume_config(data, 4), run, progress=False, log=quiet)
    ckpt = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    del ckpt["config"]["data"]["split_seed"], ckpt["config"]["model"]["tie_embeddings"]
    torch.save(ckpt, run / "checkpoints" / "last.pt")
    assert train(resume_config(data, N), run, progress=False, log=quiet)["steps"] == N
    assert_same_params(model_params(run / "checkpoints" / "last.pt"), uninterrupted)


@pytest.mark.parametrize(("valid_every", "stop_at"), [(3, 3), (0, 4)])  # 4 = an epoch's end
def test_a_stop_right_after_a_validating_step_validates_on_resume(
    data, tmp_path, monkeypatch, valid_every, stop_at
):
    """Ctrl-C after a step that validates saved last.pt before the validation, and the resume
    went on training: that validation (its line, best.pt, the plateau schedule's count) was
    lost. Now the resume validates first, as the uninterrupted run did."""

    def config():
        train_tsv, dev_tsv = data
        return tiny_config(
            train_tsv,
            dev_tsv,
            model={"layers": 1, "hidden_size": 32, "emb_size": 16, "dropout": 0.3},
            train={
                "batch_size": 6,
                "max_steps": 8,
                "valid_every": valid_every,
                "metric": "loss",
                "schedule": "plateau",
                "lr": 0.01,
            },
        )

    whole = tmp_path / "whole"
    train(config(), whole, progress=False, log=quiet)
    original = Trainer.train_step

    def step_then_ctrl_c(self, batch, indices=None):
        loss = original(self, batch, indices)
        if self.counters["step"] + 1 == stop_at:
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
        return loss

    monkeypatch.setattr(Trainer, "train_step", step_then_ctrl_c)
    run = tmp_path / "run"
    with pytest.raises(Interrupted, match=f"interrupted at step {stop_at}"):
        train(config(), run, progress=False, log=quiet)
    monkeypatch.setattr(Trainer, "train_step", original)
    train(config(), run, progress=False, log=quiet)

    def validations(r):
        return [
            {k: v for k, v in json.loads(x).items() if k != "train_loss"}  # over steps trained
            for x in (r / "metrics.jsonl").read_text().splitlines()
        ]

    assert validations(run) == validations(whole)
    assert_same_params(
        model_params(run / "checkpoints" / "last.pt"),
        model_params(whole / "checkpoints" / "last.pt"),
    )
