"""The chart numbers: TensorBoard smoothing, min-max downsampling, group means."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from labbook.charts import downsample, group_mean, rgba, smooth_ema


def tensorboard_smooth(values: list[float], weight: float) -> list[float]:
    """Gives TensorBoard's resmoothDataset, transcribed line by line from its TypeScript."""
    last = 0.0 if values else math.nan
    num_accum = 0
    is_constant = all(v == values[0] for v in values)
    out: list[float] = []
    for next_val in values:
        if is_constant or not math.isfinite(next_val):
            out.append(next_val)
        else:
            last = last * weight + (1 - weight) * next_val
            num_accum += 1
            debias_weight = 1.0
            if weight != 1:
                debias_weight = 1 - weight**num_accum
            out.append(last / debias_weight)
    return out


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_smoothing_matches_tensorboard_on_random_data_with_nan(weight: float) -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=500).cumsum()
    values[[0, 17, 18, 250, 499]] = np.nan
    values[100] = np.inf
    got = smooth_ema(values, weight)
    want = tensorboard_smooth(values.tolist(), weight)
    np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
    assert np.isnan(got[17]) and np.isinf(got[100])


def test_smoothing_first_values_are_debiased() -> None:
    got = smooth_ema(np.array([10.0, 20.0]), 0.5)
    # Without the debias the first value would be 5.0 (pulled towards 0).
    assert got[0] == pytest.approx(10.0)
    assert got[1] == pytest.approx((0.5 * 5.0 + 0.5 * 20.0) / (1 - 0.25))


def test_smoothing_weight_zero_is_identity() -> None:
    values = np.random.default_rng(1).normal(size=100)
    np.testing.assert_array_equal(smooth_ema(values, 0.0), values)


def test_smoothing_constant_series_stays_constant() -> None:
    values = np.full(50, 0.1)
    np.testing.assert_array_equal(smooth_ema(values, 0.95), values)


def test_smoothing_does_not_modify_its_input_and_handles_empty() -> None:
    values = np.array([1.0, 2.0, 3.0])
    smooth_ema(values, 0.5)
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0])
    assert len(smooth_ema(np.array([]), 0.5)) == 0
    with pytest.raises(ValueError):
        smooth_ema(values, 1.5)


def test_downsample_identity_when_short() -> None:
    y = np.arange(10.0)
    np.testing.assert_array_equal(downsample(np.arange(10), y, 10), np.arange(10))
    np.testing.assert_array_equal(downsample(np.arange(10), y, 1500), np.arange(10))


@pytest.mark.parametrize(("n", "max_points"), [(11, 10), (1000, 4), (1000, 5), (5001, 300)])
def test_downsample_keeps_ends_extremes_and_every_bucket_extreme(n: int, max_points: int) -> None:
    rng = np.random.default_rng(n)
    x = np.arange(n)
    y = rng.normal(size=n)
    keep = downsample(x, y, max_points)
    assert len(keep) <= max_points
    assert keep[0] == 0 and keep[-1] == n - 1
    assert np.all(np.diff(keep) > 0)
    assert int(np.argmax(y)) in keep and int(np.argmin(y)) in keep
    buckets = (max_points - 2) // 2
    edges = 1 + (np.arange(buckets + 1) * (n - 2)) // buckets
    for start, stop in itertools.pairwise(edges.tolist()):
        assert start + int(np.argmax(y[start:stop])) in keep
        assert start + int(np.argmin(y[start:stop])) in keep


def test_downsample_long_series_keeps_a_single_spike_and_the_tail() -> None:
    n = 100_000
    x = np.arange(n)
    y = np.sin(np.linspace(0, 20, n))
    y[73_421] = 50.0
    y[n - 1] = -3.0
    keep = downsample(x, y, 1500)
    assert len(keep) <= 1500
    assert 73_421 in keep
    assert keep[-1] == n - 1
    assert y[keep].max() == 50.0 and y[keep].min() == -3.0


def test_downsample_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        downsample(np.arange(10), np.arange(10.0), 3)
    with pytest.raises(ValueError):
        downsample(np.arange(9), np.arange(10.0), 4)


def test_group_mean_on_shared_steps_equals_numpy() -> None:
    rng = np.random.default_rng(3)
    x = np.arange(0, 100, 10)
    ys = [rng.normal(size=10) for _ in range(3)]
    gx, mean, std, lo, hi = group_mean([x, x, x], ys)
    stacked = np.vstack(ys)
    np.testing.assert_array_equal(gx, x)
    np.testing.assert_allclose(mean, stacked.mean(axis=0))
    np.testing.assert_allclose(std, stacked.std(axis=0, ddof=1))
    np.testing.assert_allclose(lo, stacked.min(axis=0))
    np.testing.assert_allclose(hi, stacked.max(axis=0))


def test_group_mean_interpolates_on_the_overlap_only() -> None:
    gx, mean, std, lo, hi = group_mean(
        [np.array([0.0, 10.0, 20.0]), np.array([5.0, 25.0])],
        [np.array([0.0, 10.0, 20.0]), np.array([100.0, 300.0])],
    )
    np.testing.assert_array_equal(gx, [5.0, 10.0, 20.0])
    # Run 2 at x=10 interpolates to 150, at x=20 to 250.
    np.testing.assert_allclose(mean, [(5 + 100) / 2, (10 + 150) / 2, (20 + 250) / 2])
    np.testing.assert_allclose(lo, [5, 10, 20])
    np.testing.assert_allclose(hi, [100, 150, 250])
    np.testing.assert_allclose(std, np.std([[5, 10, 20], [100, 150, 250]], axis=0, ddof=1))


def test_group_mean_single_run_has_zero_std_and_disjoint_runs_give_nothing() -> None:
    _, mean, std, _, _ = group_mean([np.array([1.0, 2.0])], [np.array([3.0, 4.0])])
    np.testing.assert_array_equal(mean, [3.0, 4.0])
    np.testing.assert_array_equal(std, [0.0, 0.0])
    empty = group_mean([np.array([0.0, 1.0]), np.array([2.0, 3.0])], [np.zeros(2), np.zeros(2)])
    assert all(len(a) == 0 for a in empty)
    assert all(len(a) == 0 for a in group_mean([], []))


def test_rgba() -> None:
    assert rgba("#1f77b4", 0.2) == "rgba(31,119,180,0.2)"
