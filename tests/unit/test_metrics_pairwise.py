"""Fast pairwise matrices against plain per-pair loops; tiling, symmetry and resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pytorch_msssim
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from percmusic_cli.config import DistanceConfig, MsssimConfig, NlpdConfig
from percmusic_cli.errors import DataError, ImageTooSmallError, UsageError
from percmusic_cli.metrics._gram import prepare_nlpd
from percmusic_cli.metrics._msssim_state import (
    _prepare_torch,
    msssim_pairs_values,
    prepare_msssim,
)
from percmusic_cli.metrics.mse import mse
from percmusic_cli.metrics.msssim import one_minus_msssim
from percmusic_cli.metrics.nlpd import nlpd, nlpd_pyramid
from percmusic_cli.metrics.pairwise import (
    MemoryTileSink,
    PairwiseEngine,
    compute_matrix,
    tile_plan,
)
from percmusic_cli.progress import NullReporter

FNS = {"mse": mse, "nlpd": nlpd, "msssim": one_minus_msssim}


def random_images(n: int, h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, h, w), dtype=np.float32)


def smooth_images(n: int, h: int, w: int, seed: int) -> np.ndarray:
    """Blurred noise plus a gradient: spectrogram-like local correlation, values in [0, 1]."""
    x = torch.from_numpy(random_images(n, h, w, seed))[:, None]
    x = torch.nn.functional.avg_pool2d(x, 7, stride=1, padding=3, count_include_pad=False)
    ramp = torch.linspace(0, 0.3, h)[:, None]
    return (0.7 * x[:, 0] + ramp).clamp(0, 1).numpy()


def per_pair(metric: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The plain definition: one metric call per pair, float64."""
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        x = torch.from_numpy(a[i]).double()[None, None].expand(len(b), 1, *a.shape[1:])
        out[i] = FNS[metric](x, torch.from_numpy(b).double()[:, None]).numpy()
    return out


def matrix(
    metric: str, rows: np.ndarray, cols: np.ndarray | None = None, tile: int = 3
) -> np.ndarray:
    engine = PairwiseEngine(DistanceConfig(metric=metric), device="cpu")
    return compute_matrix(engine, rows, cols, tile, MemoryTileSink())


CASES = [
    ("mse", (31, 45)),
    ("nlpd", (33, 50)),
    ("nlpd", (97, 150)),
    ("msssim", (97, 150)),
    ("msssim", (99, 101)),
]


@pytest.mark.parametrize("make", [random_images, smooth_images])
@pytest.mark.parametrize(("metric", "shape"), CASES)
def test_symmetric_matrix_equals_per_pair_loop(metric: str, shape: tuple[int, int], make) -> None:  # type: ignore[no-untyped-def]
    images = make(7, *shape, seed=len(metric))
    got = matrix(metric, images)
    want = per_pair(metric, images, images)
    np.fill_diagonal(want, 0.0)
    assert got.dtype == np.float64 and got.shape == (7, 7)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert np.array_equal(got, got.T)
    assert np.all(np.diag(got) == 0.0)
    assert np.all(got >= 0.0)


@pytest.mark.parametrize(("metric", "shape"), CASES[1:4])
def test_rectangular_matrix_equals_per_pair_loop(metric: str, shape: tuple[int, int]) -> None:
    rows, cols = smooth_images(4, *shape, seed=1), smooth_images(6, *shape, seed=2)
    got = matrix(metric, rows, cols, tile=4)
    np.testing.assert_allclose(got, per_pair(metric, rows, cols), rtol=0, atol=1e-5)


def test_msssim_matrix_equals_pytorch_msssim_float32() -> None:
    images = smooth_images(5, 97, 130, seed=3)
    got = matrix("msssim", images, tile=2)
    t = torch.from_numpy(images)[:, None]
    for i in range(5):
        ref = 1 - pytorch_msssim.ms_ssim(
            t[i : i + 1].expand(5, -1, -1, -1), t, data_range=1, win_size=7, size_average=False
        )
        ref[i] = 0.0
        np.testing.assert_allclose(got[i], ref.double().numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize("metric", ["mse", "nlpd", "msssim"])
def test_near_identical_images_stay_accurate(metric: str) -> None:
    base = smooth_images(2, 97, 120, seed=4)
    noise = np.random.default_rng(5).standard_normal(base.shape).astype(np.float32) * 1e-6
    images = np.concatenate([base, np.clip(base + noise, 0, 1), base[:1]])
    got = matrix(metric, images, tile=2)
    want = per_pair(metric, images, images)
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert np.all(got >= 0.0)
    assert got[0, 4] == pytest.approx(0.0, abs=2e-6)  # an exact duplicate of image 0
    assert got[0, 2] < 1e-3 and got[0, 1] > 1e-3


def test_msssim_custom_config_matches_function() -> None:
    cfg = MsssimConfig(win_size=5, weights=(0.2, 0.3, 0.5))
    images = smooth_images(4, 23, 31, seed=6)
    engine = PairwiseEngine(DistanceConfig(metric="msssim", msssim=cfg))
    got = compute_matrix(engine, images, None, 3, MemoryTileSink())
    t = torch.from_numpy(images).double()[:, None]
    for i in range(4):
        want = one_minus_msssim(t[i : i + 1].expand(4, -1, -1, -1), t, cfg).numpy()
        want[i] = 0.0
        np.testing.assert_allclose(got[i], want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("shape", [(17, 18), (33, 50), (64, 97)])
def test_numba_pyramid_equals_torch_pyramid(shape: tuple[int, int]) -> None:
    images = random_images(3, *shape, seed=7)
    state = prepare_nlpd(images, NlpdConfig(), "cpu")
    bands = nlpd_pyramid(torch.from_numpy(images).double()[:, None])
    for got, want in zip(state.features, bands, strict=True):
        torch.testing.assert_close(got, want.flatten(1), rtol=0, atol=1e-12)


def test_numba_msssim_statistics_equal_torch() -> None:
    images = random_images(3, 99, 101, seed=8)
    cpu = prepare_msssim(images, MsssimConfig(), "cpu")
    ref = _prepare_torch(images, MsssimConfig(), "cpu")
    assert cpu.flat is not None and ref.tensors is not None
    for q in range(3):
        joined = torch.cat([scale[q].flatten(1) for scale in ref.tensors], dim=1).numpy()
        np.testing.assert_allclose(cpu.flat[q], joined, rtol=0, atol=2e-7)


def test_batched_torch_path_equals_numba_path() -> None:
    """The CUDA code path (batched torch), run on CPU, against the numba kernel."""
    images = smooth_images(4, 97, 110, seed=9)
    ia, ib = np.repeat(np.arange(4), 4), np.tile(np.arange(4), 4)
    torch_state = _prepare_torch(images, MsssimConfig(), "cpu")
    numba_state = prepare_msssim(images, MsssimConfig(), "cpu")
    got = msssim_pairs_values(torch_state, torch_state, ia, ib)
    want = msssim_pairs_values(numba_state, numba_state, ia, ib)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert got.shape == (16,) and got[1] > 0.01


def test_tile_plan_covers_each_pair_once() -> None:
    plan = tile_plan(10, 10, 4, symmetric=True)
    seen = np.zeros((10, 10), dtype=int)
    for spec in plan:
        assert spec.c.start >= spec.r.start
        seen[spec.r, spec.c] += 1
    assert np.all(seen[np.triu_indices(10)] == 1)
    assert len({spec.key for spec in plan}) == len(plan) == 6
    full = tile_plan(5, 7, 3, symmetric=False)
    cover = np.zeros((5, 7), dtype=int)
    for spec in full:
        cover[spec.r, spec.c] += 1
    assert np.all(cover == 1) and len(full) == 6


def test_tile_plan_rejects_bad_arguments() -> None:
    with pytest.raises(UsageError):
        tile_plan(3, 4, 2, symmetric=True)
    with pytest.raises(UsageError):
        tile_plan(3, 3, 0, symmetric=False)


class CrashingSink(MemoryTileSink):
    """Raises after `limit` saves, like a run killed between tiles."""

    def __init__(self, limit: int, tiles: dict[str, np.ndarray] | None = None) -> None:
        super().__init__()
        self.tiles = tiles if tiles is not None else {}
        self.limit = limit
        self.saved: list[str] = []

    def save(self, key: str, tile: np.ndarray) -> None:
        if len(self.saved) >= self.limit:
            raise KeyboardInterrupt("killed")
        super().save(key, tile)
        self.saved.append(key)


class DirectorySink:
    """One .npy per tile (written to a temporary name, then renamed), for tests only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def has(self, key: str) -> bool:
        return (self.root / f"{key}.npy").exists()

    def load(self, key: str) -> np.ndarray:
        return np.load(self.root / f"{key}.npy", allow_pickle=False)

    def save(self, key: str, tile: np.ndarray) -> None:
        tmp = self.root / f"{key}.tmp.npy"
        np.save(tmp, tile, allow_pickle=False)
        tmp.replace(self.root / f"{key}.npy")


@pytest.mark.parametrize("metric", ["nlpd", "msssim"])
def test_resume_after_kill_computes_only_missing_tiles(metric: str) -> None:
    images = smooth_images(9, 97, 104, seed=10)
    engine = PairwiseEngine(DistanceConfig(metric=metric))
    full = compute_matrix(engine, images, None, 2, MemoryTileSink())
    sink = CrashingSink(limit=4)
    with pytest.raises(KeyboardInterrupt):
        compute_matrix(engine, images, None, 2, sink)
    assert len(sink.tiles) == 4
    resumed = CrashingSink(limit=100, tiles=sink.tiles)
    reporter = NullReporter()
    again = compute_matrix(engine, images, None, 2, resumed, reporter)
    plan = tile_plan(9, 9, 2, symmetric=True)
    assert len(resumed.saved) == len(plan) - 4
    assert not set(resumed.saved) & set(sink.saved)
    assert reporter.messages == [f"4 of {len(plan)} tiles already computed"]
    np.testing.assert_array_equal(again, full)


def test_directory_sink_round_trip_skips_all_work(tmp_path: Path) -> None:
    images = smooth_images(5, 40, 45, seed=11)
    rows, cols = images[:2], images[2:]
    engine = PairwiseEngine(DistanceConfig(metric="nlpd"))
    first = compute_matrix(engine, rows, cols, 2, DirectorySink(tmp_path))
    assert len(list(tmp_path.glob("*.npy"))) == 2

    class NoWork(PairwiseEngine):
        def prepare(self, images: np.ndarray):  # type: ignore[no-untyped-def]
            raise AssertionError("nothing should be recomputed")

    again = compute_matrix(
        NoWork(DistanceConfig(metric="nlpd")), rows, cols, 2, DirectorySink(tmp_path)
    )
    np.testing.assert_array_equal(first, again)


def test_engine_rejects_bad_inputs() -> None:
    with pytest.raises(UsageError):
        PairwiseEngine(DistanceConfig(metric="foo"))
    engine = PairwiseEngine(DistanceConfig(metric="msssim"))
    with pytest.raises(ImageTooSmallError, match="97"):
        engine.prepare(np.zeros((2, 64, 200), dtype=np.float32))
    bad = np.zeros((2, 97, 100), dtype=np.float32)
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError):
        engine.prepare(bad)
    a = PairwiseEngine(DistanceConfig(metric="mse"))
    with pytest.raises(DataError):
        a.tile(
            a.prepare(np.zeros((2, 4, 5))), a.prepare(np.zeros((2, 5, 4))), slice(0, 2), slice(0, 2)
        )


def test_threads_are_applied() -> None:
    import numba

    before = torch.get_num_threads()
    try:
        PairwiseEngine(DistanceConfig(metric="mse", threads=1))
        assert torch.get_num_threads() == 1
        assert numba.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
        numba.set_num_threads(int(numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 5),
    h=st.integers(17, 30),
    w=st.integers(17, 30),
    tile=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_property_nlpd_and_mse_matrices(n: int, h: int, w: int, tile: int, seed: int) -> None:
    images = random_images(n, h, w, seed)
    for metric in ("mse", "nlpd"):
        got = matrix(metric, images, tile=tile)
        want = per_pair(metric, images, images)
        np.fill_diagonal(want, 0.0)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
        assert np.array_equal(got, got.T) and np.all(got >= 0)
        # the metric ignores which set is "rows": the transposed rectangular block agrees
        block = matrix(metric, images[:1], images, tile=tile)
        np.testing.assert_allclose(block[0], got[0], rtol=0, atol=1e-9)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 4), extra=st.integers(0, 9), tile=st.integers(1, 3), seed=st.integers(0, 99)
)
def test_property_msssim_matrix(n: int, extra: int, tile: int, seed: int) -> None:
    images = smooth_images(n, 97 + extra, 97 + 2 * extra, seed)
    got = matrix("msssim", images, tile=tile)
    want = per_pair("msssim", images, images)
    np.fill_diagonal(want, 0.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert np.array_equal(got, got.T) and np.all((got >= 0) & (got <= 1))
