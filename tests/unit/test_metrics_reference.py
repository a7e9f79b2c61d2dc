"""The metric functions against published reference values and pytorch_msssim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pytorch_msssim
import torch

from percmusic_cli.config import MsssimConfig, NlpdConfig
from percmusic_cli.errors import ImageTooSmallError, PercmusicError
from percmusic_cli.metrics import check_min_size, min_side
from percmusic_cli.metrics.mse import mse
from percmusic_cli.metrics.msssim import one_minus_msssim
from percmusic_cli.metrics.nlpd import nlpd, nlpd_pyramid

VECTORS = Path(__file__).resolve().parents[1] / "data" / "metric_vectors.npz"


def _vectors() -> dict[str, np.ndarray]:
    with np.load(VECTORS, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


VEC = _vectors()
NAMES = sorted({k.split("__")[0] for k in VEC})
MSSSIM_NAMES = [n for n in NAMES if f"{n}__one_minus_msssim_win7" in VEC]


def _pair(name: str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(VEC[f"{name}__x"]).to(dtype)[None, None]
    y = torch.from_numpy(VEC[f"{name}__y"]).to(dtype)[None, None]
    return x, y


TOL = {torch.float64: 1e-6, torch.float32: 1e-4}


def test_vectors_cover_the_documented_pairs() -> None:
    assert len(NAMES) == 8
    assert len(MSSSIM_NAMES) == 5


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", NAMES)
def test_nlpd_and_mse_match_reference(name: str, dtype: torch.dtype) -> None:
    x, y = _pair(name, dtype)
    got = nlpd(x, y)
    assert got.dtype == dtype and got.shape == (1,)
    assert abs(float(got) - float(VEC[f"{name}__nlpd"])) < TOL[dtype]
    assert abs(float(mse(x, y)) - float(VEC[f"{name}__mse"])) < TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", MSSSIM_NAMES)
def test_one_minus_msssim_matches_reference(name: str, dtype: torch.dtype) -> None:
    x, y = _pair(name, dtype)
    got = float(one_minus_msssim(x, y))
    assert abs(got - float(VEC[f"{name}__one_minus_msssim_win7"])) < TOL[dtype]


def test_batch_values_equal_single_values() -> None:
    logmel = [n for n in MSSSIM_NAMES if n.startswith("logmel")]
    x = torch.cat([_pair(n, torch.float64)[0] for n in logmel])
    y = torch.cat([_pair(n, torch.float64)[1] for n in logmel])
    for fn in (mse, nlpd, one_minus_msssim):
        batch = fn(x, y)
        singles = torch.cat([fn(x[i : i + 1], y[i : i + 1]) for i in range(2)])
        torch.testing.assert_close(batch, singles, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(97, 150), (101, 131), (128, 97)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_one_minus_msssim_equals_pytorch_msssim(shape: tuple[int, int], dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(sum(shape))
    x = torch.rand(3, 1, *shape, generator=gen, dtype=dtype)
    # a correlated partner as well as an independent one, so cs terms are not all ~0
    y = torch.cat([torch.rand(1, 1, *shape, generator=gen, dtype=dtype), 0.7 * x[1:] + 0.1])
    ref = 1 - pytorch_msssim.ms_ssim(x, y, data_range=1, win_size=7, size_average=False)
    torch.testing.assert_close(one_minus_msssim(x, y), ref, rtol=0, atol=1e-12)


def test_identical_images_give_zero() -> None:
    x = torch.rand(2, 1, 97, 120, dtype=torch.float64)
    for fn in (mse, nlpd, one_minus_msssim):
        assert torch.all(fn(x, x.clone()).abs() < 1e-12)


def test_min_sides() -> None:
    assert min_side("msssim") == 97  # short side above 96 for window 7 and 5 scales
    assert min_side("msssim", msssim=MsssimConfig(win_size=11)) == 161
    assert min_side("nlpd") == 17
    assert min_side("nlpd", nlpd=NlpdConfig(levels=3)) == 3
    assert min_side("mse") == 1


@pytest.mark.parametrize(
    ("fn", "shape", "needed"),
    [(one_minus_msssim, (96, 300), "97"), (nlpd, (16, 40), "17"), (nlpd_pyramid, (40, 9), "17")],
)
def test_too_small_images_raise_with_minimum(
    fn: object, shape: tuple[int, int], needed: str
) -> None:
    x = torch.rand(1, 1, *shape)
    with pytest.raises(ImageTooSmallError, match=rf"at least {needed} pixels") as info:
        fn(x) if fn is nlpd_pyramid else fn(x, x)  # type: ignore[operator]
    assert isinstance(info.value, PercmusicError)
    assert f"{shape[0]}x{shape[1]}" in str(info.value)


def test_check_min_size_accepts_the_minimum() -> None:
    check_min_size(97, 97, "msssim")
    check_min_size(17, 1000, "nlpd")
    with pytest.raises(ImageTooSmallError):
        check_min_size(128, 96, "msssim")


def test_mismatched_shapes_rejected() -> None:
    with pytest.raises(ValueError, match="shape"):
        mse(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))


def test_pyramid_shapes_follow_ceil_halving() -> None:
    bands = nlpd_pyramid(torch.rand(2, 1, 33, 50, dtype=torch.float64))
    assert [tuple(b.shape[-2:]) for b in bands] == [
        (33, 50), (17, 25), (9, 13), (5, 7), (3, 4), (2, 2),
    ]  # fmt: skip
