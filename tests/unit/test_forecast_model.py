"""The forecast model's pieces: the distribution heads' losses against their closed forms,
teacher forcing against the step protocol, point and sampled paths, and the forecast metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seq2seq.config import ForecastConfig
from seq2seq.decoding.forecast import point_path, rollout, sample_paths
from seq2seq.evaluation import coverage, crps_gaussian, crps_samples, mase, mase_scale, smape
from seq2seq.models import build_model
from seq2seq.models.heads import GaussianHead, QuantileHead, interpolate_quantiles


def test_gaussian_nll_is_the_closed_form():
    head = GaussianHead(5, 2)
    params = head(torch.randn(3, 4, 5)).detach()  # (3, 4, 2, 2)
    y = torch.randn(3, 4, 2)
    mu, sigma = params[..., 0].double(), params[..., 1].double()
    assert (sigma > 0).all()
    by_hand = sum(
        0.5 * math.log(2 * math.pi * s**2) + (v - m) ** 2 / (2 * s**2)
        for m, s, v in zip(mu.flatten().tolist(), sigma.flatten().tolist(), y.flatten().tolist())
    )
    assert float(head.loss(params, y)) == pytest.approx(by_hand, rel=1e-5)


def test_quantile_loss_at_the_median_is_half_the_absolute_error():
    head = QuantileHead(5, 1, (0.5,))
    params = head(torch.randn(6, 3, 5)).detach()  # (6, 3, 1, 1)
    y = torch.randn(6, 3, 1)
    mae = (params[..., 0] - y).abs().mean()
    assert float(head.loss(params, y)) / y.numel() == pytest.approx(0.5 * float(mae), rel=1e-6)


def test_quantiles_stay_in_order_and_samples_follow_them():
    levels = (0.1, 0.5, 0.9)
    head = QuantileHead(4, 2, levels)
    params = head(torch.randn(50, 4) * 5)
    assert (params.diff(dim=-1) > 0).all()
    values = torch.tensor([[0.0, 1.0, 3.0]])
    u = torch.tensor([0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
    got = interpolate_quantiles(values.expand(7, 3), torch.tensor(levels), u)
    assert got.tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 3.0])


def tiny(head: str = "gaussian", **kw):
    torch.manual_seed(0)
    cfg = ForecastConfig(layers=2, emb_size=8, hidden_size=16, dropout=0.0, head=head, **kw)
    return build_model(cfg, 3, 2).eval()  # inputs: 2 values + 1 covariate; 2 targets


@pytest.mark.parametrize("head", ["gaussian", "quantile"])
def test_teacher_forcing_equals_the_step_protocol(head):
    """forward() over the whole horizon == step() fed the same inputs one at a time."""
    model = tiny(head)
    src, tgt_in = torch.randn(4, 7, 3), torch.randn(4, 5, 3)
    src_len = torch.full((4,), 7)
    whole = model(src, src_len, tgt_in)  # (4, 5, 2, P)
    state, steps = model.init_state(model.encode(src, src_len)), []
    for t in range(5):
        params, state, att = model.step(tgt_in[:, t], state)
        steps.append(params)
        assert att is None
    assert torch.allclose(whole, torch.stack(steps, 1), atol=1e-5)


def test_point_path_feeds_each_step_its_own_point_forecast():
    model = tiny()
    src, last, cov = torch.randn(3, 6, 3), torch.randn(3, 2), torch.randn(3, 4, 1)
    src_len = torch.full((3,), 6)
    path = point_path(model, src, src_len, last, cov)  # (3, 4, 2)
    tgt_in = torch.cat([torch.cat([last.unsqueeze(1), path[:, :-1]], 1), cov], -1)
    forced = model(src, src_len, tgt_in)[..., 0]  # teacher forcing on its own path
    assert torch.allclose(path, forced, atol=1e-5)


def test_sample_paths_batch_of_n_equals_n_batches_of_one():
    model = tiny()
    src, last, cov = torch.randn(3, 6, 3), torch.randn(3, 2), torch.randn(3, 4, 1)
    src_len = torch.full((3,), 6)
    together = sample_paths(
        model, src, src_len, last, cov, samples=5, generator=torch.Generator().manual_seed(1)
    )
    assert together.shape == (3, 5, 4, 2)
    state = model.init_state(model.encode(src, src_len))
    zero = rollout(model, state, last, cov, lambda p: p[..., 0])  # sigma -> 0: the point path
    assert torch.allclose(zero, point_path(model, src, src_len, last, cov))
    assert together.std(1).mean() > 0  # the samples differ


def test_forecast_metrics_on_numbers_by_hand():
    history = [1.0, 2.0, 4.0, 7.0]
    assert mase_scale(history, 1) == pytest.approx((1 + 2 + 3) / 3)
    assert mase_scale(history, 2) == pytest.approx((3 + 5) / 2)
    assert mase([8, 9], [7, 7], 2.0) == pytest.approx(0.75)
    assert smape([100, 0], [50, 0]) == pytest.approx(100 * (2 * 50 / 150) / 2)
    assert coverage([0, 0, 0], [1, 1, 1], [0.5, 2, 1]) == pytest.approx(2 / 3)


def test_sample_crps_approaches_the_gaussian_closed_form():
    rng = np.random.default_rng(0)
    mu, sd, y = np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([0.3, -2.0])
    samples = rng.normal(mu, sd, size=(20000, 2))
    assert crps_samples(samples, y) == pytest.approx(crps_gaussian(mu, sd, y), rel=0.02)
    assert crps_samples(np.full((5, 1), 2.0), [3.0]) == pytest.approx(1.0)  # a point: |x - y|
