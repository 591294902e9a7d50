"""Numbers behind the charts: TensorBoard's smoothing, shape-keeping downsampling, group means."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# D3's category10, Plotly's own default: readers of TensorBoard and MLflow charts know it.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def color_for(index: int) -> str:
    """Gives the palette colour for the index-th run or group (cycling)."""
    return PALETTE[index % len(PALETTE)]


def rgba(color: str, alpha: float) -> str:
    """Gives a `#rrggbb` colour as a CSS `rgba(...)` string with this opacity."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:g})"


def smooth_ema(values: npt.ArrayLike, weight: float) -> FloatArray:
    """Gives the series smoothed as TensorBoard's scalar dashboard smooths it.

    A debiased exponential moving average: `last = last*w + (1-w)*v`, divided by
    `1 - w**n` where n counts the finite points so far. Non-finite values pass
    through and leave the average alone; a constant series is returned as is
    (TensorBoard's special case, so float error cannot make a flat line wiggle).
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1], not {weight}")
    out = np.array(values, dtype=np.float64, copy=True)
    if len(out) == 0:
        return out
    # NaN != NaN, so a series holding NaN is not "constant", exactly as in TensorBoard.
    if bool(np.all(out == out[0])):
        return out
    finite = np.flatnonzero(np.isfinite(out))
    last = 0.0
    count = 0
    raw = out[finite].tolist()
    smoothed: list[float] = []
    for value in raw:
        last = last * weight + (1.0 - weight) * value
        count += 1
        debias = 1.0 - weight**count if weight != 1.0 else 1.0
        smoothed.append(last / debias)
    out[finite] = smoothed
    return out


def downsample(x: npt.ArrayLike, y: npt.ArrayLike, max_points: int) -> IntArray:
    """Gives the sorted indices of at most `max_points` points that keep the line's shape.

    Min-max bucketing: the first and last points always stay, and the points in
    between fall into buckets of equal index width, each keeping its lowest and
    highest y. Spikes survive and the tail is never dropped. Points must be in x
    order and finite (drop NaN first).
    """
    xs = np.asarray(x)
    ys = np.asarray(y, dtype=np.float64)
    if len(xs) != len(ys):
        raise ValueError(f"x and y differ in length ({len(xs)} != {len(ys)})")
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, not {max_points}")
    n = len(ys)
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    buckets = (max_points - 2) // 2
    inner = n - 2
    # n > max_points >= 2*buckets + 2, so every bucket holds at least two points.
    edges = 1 + (np.arange(buckets + 1, dtype=np.int64) * inner) // buckets
    keep = [0]
    for start, stop in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        chunk = ys[start:stop]
        lo = start + int(np.argmin(chunk))
        hi = start + int(np.argmax(chunk))
        keep.extend(sorted({lo, hi}))
    keep.append(n - 1)
    return np.asarray(keep, dtype=np.int64)


def group_mean(
    xs_list: Sequence[npt.ArrayLike], ys_list: Sequence[npt.ArrayLike]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Gives (x, mean, std, min, max) of several runs' lines, aligned on a common x.

    Each run is linearly interpolated onto the union of all runs' x values inside
    the range every run covers, so no run is extrapolated. The std is the sample
    std (ddof=1), 0 for a single run. Runs without points are left out; when the
    runs share no x range, every array is empty.
    """
    empty = np.empty(0, dtype=np.float64)
    pairs: list[tuple[FloatArray, FloatArray]] = []
    for xs, ys in zip(xs_list, ys_list, strict=True):
        x = np.asarray(xs, dtype=np.float64)
        y = np.asarray(ys, dtype=np.float64)
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length ({len(x)} != {len(y)})")
        if len(x) == 0:
            continue
        order = np.argsort(x, kind="stable")
        pairs.append((x[order], y[order]))
    if not pairs:
        return empty, empty, empty, empty, empty
    start = max(float(x[0]) for x, _ in pairs)
    stop = min(float(x[-1]) for x, _ in pairs)
    if start > stop:
        return empty, empty, empty, empty, empty
    grid = np.unique(np.concatenate([x for x, _ in pairs]))
    grid = grid[(grid >= start) & (grid <= stop)]
    stacked = np.vstack([np.interp(grid, x, y) for x, y in pairs])
    mean = stacked.mean(axis=0)
    std = stacked.std(axis=0, ddof=1) if len(pairs) > 1 else np.zeros_like(mean)
    return grid, mean, std, stacked.min(axis=0), stacked.max(axis=0)
