"""Learning-rate schedules: the paper's halving, warm-up, plateau; state round trip."""

from __future__ import annotations

import pytest
import torch

from seq2seq.config import TrainConfig
from seq2seq.training.optim import Schedule, build_optimizer


def _schedule(steps_per_epoch=10, **kw):
    cfg = TrainConfig(**kw)
    opt = build_optimizer(cfg, [torch.nn.Parameter(torch.zeros(2))])
    return Schedule(cfg, opt, steps_per_epoch), opt


def _lr_after(schedule, n):
    while schedule.step_count < n:
        schedule.step()
    return schedule.lr


def test_halving_constant_until_epoch_five_then_halves_every_half_epoch():
    sched, opt = _schedule(10, optimizer="sgd", lr=0.7, schedule="halving")
    assert sched.lr == pytest.approx(0.7)
    expected = {0: 0.7, 1: 0.7, 25: 0.7, 49: 0.7, 50: 0.35, 54: 0.35, 55: 0.175, 59: 0.175}
    expected.update({60: 0.0875, 74: 0.7 / 2**5})
    for step, lr in sorted(expected.items()):
        assert _lr_after(sched, step) == pytest.approx(lr), step
    assert opt.param_groups[0]["lr"] == sched.lr


def test_halving_start_and_interval_are_configurable():
    sched, _ = _schedule(4, lr=1.0, schedule="halving", halving_start_epoch=1.0, halving_every=1.0)
    assert [_lr_after(sched, s) for s in (3, 4, 7, 8, 12)] == pytest.approx(
        [1.0, 0.5, 0.5, 0.25, 0.125]
    )


def test_linear_warmup_then_constant():
    sched, _ = _schedule(10, lr=1.0, schedule="constant", warmup_steps=4)
    assert [_lr_after(sched, s) for s in range(7)] == pytest.approx(
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    )


def test_warmup_combines_with_halving():
    sched, _ = _schedule(2, lr=1.0, schedule="halving", warmup_steps=2, halving_start_epoch=1)
    assert [_lr_after(sched, s) for s in range(4)] == pytest.approx([0.5, 1.0, 0.5, 0.25])


def test_plateau_halves_after_patience_misses():
    sched, _ = _schedule(10, lr=1.0, schedule="plateau", plateau_patience=2)
    sched.validated(False)
    assert sched.lr == pytest.approx(1.0)
    sched.validated(False)
    assert sched.lr == pytest.approx(0.5)
    sched.validated(True)
    sched.validated(False)
    assert sched.lr == pytest.approx(0.5)


def test_state_dict_round_trip_restores_lr():
    sched, _ = _schedule(10, lr=0.7, schedule="halving")
    _lr_after(sched, 57)
    fresh, opt = _schedule(10, lr=0.7, schedule="halving")
    fresh.load_state_dict(sched.state_dict())
    assert fresh.lr == pytest.approx(0.175)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.175)


def test_build_optimizer_kinds():
    params = [torch.nn.Parameter(torch.zeros(1))]
    assert isinstance(build_optimizer(TrainConfig(optimizer="sgd"), params), torch.optim.SGD)
    adam = build_optimizer(TrainConfig(optimizer="adam", adam_betas=(0.8, 0.9)), params)
    assert isinstance(adam, torch.optim.Adam)
    assert adam.param_groups[0]["betas"] == (0.8, 0.9)


def test_linear_decays_to_the_final_factor_over_the_step_budget():
    sched, _ = _schedule(10, lr=1.0, schedule="linear", epochs=2, final_lr_factor=0.1)
    assert [_lr_after(sched, s) for s in (0, 5, 10, 20, 25)] == pytest.approx(
        [1.0, 1.0 - 0.9 * 0.25, 1.0 - 0.9 * 0.5, 0.1, 0.1]
    )


def test_linear_follows_the_time_budget_when_it_runs_out_first():
    sched, _ = _schedule(10, lr=1.0, schedule="linear", epochs=100)
    _lr_after(sched, 10)  # 1 % of the steps
    sched.spent_time(0.75)  # but 75 % of train.max_minutes
    assert sched.lr == pytest.approx(0.25)
    fresh, opt = _schedule(10, lr=1.0, schedule="linear", epochs=100)
    fresh.load_state_dict(sched.state_dict())  # resume restores the clock's share too
    assert opt.param_groups[0]["lr"] == pytest.approx(0.25)


def test_linear_combines_with_warmup_and_other_schedules_ignore_the_clock():
    sched, _ = _schedule(10, lr=1.0, schedule="linear", epochs=1, warmup_steps=2)
    assert [_lr_after(sched, s) for s in (0, 1, 2)] == pytest.approx([0.5, 0.9, 0.8])
    const, _ = _schedule(10, lr=1.0, schedule="constant")
    const.spent_time(0.9)
    assert const.lr == pytest.approx(1.0)
