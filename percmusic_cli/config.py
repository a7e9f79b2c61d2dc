"""Frozen parameter sets, one per step. Each is hashed into the key of what it produces,
so changing any field never reuses a stale artefact."""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from dataclasses import dataclass, field
from typing import Any

from percmusic_cli import metric_names
from percmusic_cli.errors import UsageError

# The metric names live in the metric registry (`percmusic_cli.metrics.registry`); configs
# check theirs against the catalogue of registered names, which imports no metric code.
MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
DEVICES = ("auto", "cpu", "cuda")
NONLINEARITIES = ("gdn", "relu", "gelu")
TRAIN_DATA = ("noise", "spectrograms")
KNN_WEIGHTS = ("uniform", "distance")
SELECT_ON = ("valid", "cv")
REFITS = ("train", "train+valid")
POOLS = ("meanstd", "mean")
SEED_LIMIT = 2**32  # one range for every seed: np.random.seed accepts no more
# Upper bounds on sizes: well past any sensible study, well below what exhausts memory
# (each alone; a 2**31-frame image or a million-channel layer only ever ends in MemoryError).
MAX_FRAMES = 65536  # about 25 minutes of audio at the default hop
MAX_MELS = 1024
MAX_BOOT = 100_000
MAX_K = 10_000
MAX_FOLDS = 100
MAX_BATCH = 4096
MAX_PATCH = 4096
MAX_CHANNELS = 4096
MAX_STEPS = 100_000_000
MAX_TILE = 8192
MAX_CLIPS = 1000  # synthetic clips per class: 10 s each, so 10 x 1000 clips is about 4 GB
THREADS_PER_CPU = 8  # more threads than this per core only thrash (1000000 segfaulted)
RATIO_TOLERANCE = 1e-3


# ---------------------------------------------------------------- field checks
# Each raises UsageError with one line naming the option and what it accepts, so a CLI
# user and a library user see the same message.


def _fail(name: str, value: object, accepted: str) -> UsageError:
    return UsageError(f"{name} {value!r}: {accepted}")


def _int(name: str, value: object, low: int, high: int) -> None:
    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not whole or not low <= value <= high:  # type: ignore[operator]
        raise _fail(name, value, f"expected a whole number from {low} to {high}")


def _odd(name: str, value: int, low: int, high: int) -> None:
    _int(name, value, low, high)
    if value % 2 == 0:
        raise _fail(name, value, f"expected an odd whole number from {low} to {high}")


def _number(name: str, value: object, low: float = 0.0, high: float = math.inf) -> float:
    """A finite real number with low < value <= high."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, value, "expected a number")
    number = float(value)
    if not (math.isfinite(number) and low < number <= high):
        upper = "" if math.isinf(high) else f" and at most {high:g}"
        raise _fail(name, value, f"expected a finite number above {low:g}{upper}")
    return number


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise _fail(name, value, f"choose one of {', '.join(choices)}")


def check_seed(value: object, name: str = "--seed") -> None:
    _int(name, value, 0, SEED_LIMIT - 1)


def check_device(value: object, name: str = "--device") -> None:
    _choice(name, value, DEVICES)


def check_int(name: str, value: object, low: int, high: int) -> None:
    """A whole number from low to high, for options that belong to no config."""
    _int(name, value, low, high)


def check_frames(value: object, name: str = "--frames") -> None:
    _int(name, value, 16, MAX_FRAMES)


def max_threads() -> int:
    return THREADS_PER_CPU * (os.cpu_count() or 1)


def check_threads(value: object, name: str = "--threads") -> None:
    _int(name, value, 1, max_threads())


def check_dataset_name(name: object, option: str = "--dataset") -> str:
    """A dataset name is a plain name: it becomes a folder under the store's sources/, so no
    separators, no `.` or `..`, no control characters, nothing absolute."""
    if not isinstance(name, str) or not name.strip():
        raise _fail(option, name, "a dataset name must not be empty")
    bad = (
        "/" in name
        or "\\" in name
        or name in (".", "..")
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
        or len(name) > 128
    )
    if bad:
        raise _fail(
            option,
            name,
            "a dataset name must be a plain name (no / or \\, not . or .., no control "
            "characters, at most 128 characters)",
        )
    return name


def parse_ratios(text: str, name: str = "--ratios") -> tuple[float, float, float]:
    """Three train,valid,test fractions that sum to 1 (within 0.001; never normalised from
    anything further off). Train and test must be above 0; valid may be 0, and k and C are
    then chosen by cross-validation on train."""
    accepted = "expected three fractions train,valid,test summing to 1, like 0.5,0.2,0.3"
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise _fail(name, text, accepted) from None
    if len(values) != 3 or not all(math.isfinite(v) and 0 <= v <= 1 for v in values):
        raise _fail(name, text, accepted)
    if abs(sum(values) - 1.0) > RATIO_TOLERANCE:
        raise _fail(name, text, f"the fractions sum to {sum(values):g}, not 1; {accepted}")
    if values[0] == 0 or values[2] == 0:
        raise _fail(name, text, "train and test need fractions above 0 (valid may be 0)")
    total = sum(values)  # within the tolerance of 1: only rounding is taken out
    return values[0] / total, values[1] / total, values[2] / total


@dataclass(frozen=True)
class SpectrogramConfig:
    """Log-mel image parameters (protocol.md, "Spectrogram defaults")."""

    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None  # None: Nyquist
    power: float = 2.0
    top_db: float = 80.0
    n_frames: int = 1290

    def __post_init__(self) -> None:
        _int("sample_rate", self.sample_rate, 1000, 384_000)
        _int("n_fft", self.n_fft, 16, 65536)
        _int("hop_length", self.hop_length, 1, self.n_fft)
        _int("--n-mels", self.n_mels, 8, MAX_MELS)
        check_frames(self.n_frames)
        nyquist = self.sample_rate / 2
        if self.fmin != 0:
            _number("fmin", self.fmin, 0.0, nyquist)
        if self.fmax is not None:
            _number("fmax", self.fmax, self.fmin, nyquist)
        _number("power", self.power, 0.0, 4.0)
        _number("top_db", self.top_db, 0.0, 1000.0)

    def frames_for(self, seconds: float) -> int:
        """Frame count of a centred STFT over a clip of `seconds`."""
        return round(seconds * self.sample_rate) // self.hop_length + 1


@dataclass(frozen=True)
class MsssimConfig:
    win_size: int = 7
    win_sigma: float = 1.5
    weights: tuple[float, ...] = MSSSIM_WEIGHTS
    k1: float = 0.01
    k2: float = 0.03
    data_range: float = 1.0

    def __post_init__(self) -> None:
        _odd("msssim.win_size", self.win_size, 1, 63)
        _number("msssim.win_sigma", self.win_sigma, 0.0, 100.0)
        if not 1 <= len(self.weights) <= 8:
            raise _fail("msssim.weights", self.weights, "expected 1 to 8 scale weights")
        for w in self.weights:
            _number("msssim.weights", w)
        _number("msssim.k1", self.k1, 0.0, 1.0)
        _number("msssim.k2", self.k2, 0.0, 1.0)
        _number("msssim.data_range", self.data_range)


@dataclass(frozen=True)
class NlpdConfig:
    levels: int = 6

    def __post_init__(self) -> None:
        _int("nlpd.levels", self.levels, 1, 12)


@dataclass(frozen=True)
class DistanceConfig:
    """How a pairwise matrix is computed. `tile` and `device` do not change values,
    so they are excluded from the artefact key (`registry.key_fields`). A metric's settings are
    the field of its settings type: `msssim`, `nlpd`, or one of `params` (settings of any
    other registered metric, e.g. a plugin's); absent, that metric's defaults."""

    metric: str = "nlpd"
    msssim: MsssimConfig = field(default_factory=MsssimConfig)
    nlpd: NlpdConfig = field(default_factory=NlpdConfig)
    tile: int = 64
    device: str = "auto"
    threads: int | None = None
    params: tuple[object, ...] = ()

    def __post_init__(self) -> None:
        metric_names.check_name(self.metric)
        _int("--tile", self.tile, 1, MAX_TILE)
        check_device(self.device)
        if self.threads is not None:
            check_threads(self.threads)


@dataclass(frozen=True)
class KnnConfig:
    k_max: int = 50
    weights: str = "uniform"  # or "distance"
    select_on: str = "valid"  # "valid" or "cv"
    refit: str = "train"  # or "train+valid"
    cv_folds: int = 5
    n_boot: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        _int("--k-max", self.k_max, 1, MAX_K)
        _choice("--weights", self.weights, KNN_WEIGHTS)
        _choice("--select-on", self.select_on, SELECT_ON)
        _choice("--refit", self.refit, REFITS)
        _int("--cv-folds", self.cv_folds, 2, MAX_FOLDS)
        _int("--n-boot", self.n_boot, 0, MAX_BOOT)
        check_seed(self.seed)


@dataclass(frozen=True)
class ModelConfig:
    """Fully convolutional autoencoder; `stages` stride-2 convolutions each way."""

    in_channels: int = 1
    hidden_channels: int = 64
    latent_channels: int = 32
    stages: int = 4
    kernel_size: int = 5
    nonlinearity: str = "gdn"  # "gdn" or "relu" or "gelu"

    def __post_init__(self) -> None:
        _int("in_channels", self.in_channels, 1, 16)
        _int("--hidden", self.hidden_channels, 1, MAX_CHANNELS)
        _int("--latent", self.latent_channels, 1, MAX_CHANNELS)
        _int("stages", self.stages, 1, 10)
        _odd("kernel_size", self.kernel_size, 1, 31)
        _choice("--nonlinearity", self.nonlinearity, NONLINEARITIES)


@dataclass(frozen=True)
class TrainConfig:
    loss: str = "nlpd"
    data: str = "noise"  # or "spectrograms"
    steps: int = 1500
    batch_size: int = 8
    patch: int = 128
    lr: float = 1e-3
    seed: int = 0
    checkpoint_every: int = 250
    device: str = "auto"
    amp: bool = True  # mixed precision on CUDA only; ignored on CPU

    def __post_init__(self) -> None:
        metric_names.check_name(self.loss, "loss")
        _choice("--data", self.data, TRAIN_DATA)
        _int("--steps", self.steps, 1, MAX_STEPS)
        _int("--batch", self.batch_size, 1, MAX_BATCH)
        _int("--patch", self.patch, 4, MAX_PATCH)  # 2**stages is checked with the model
        _number("--lr", self.lr)
        check_seed(self.seed)
        _int("checkpoint_every", self.checkpoint_every, 1, MAX_STEPS)
        check_device(self.device)
        if not isinstance(self.amp, bool):
            raise _fail("amp", self.amp, "expected True or False")


@dataclass(frozen=True)
class ClassifyConfig:
    pool: str = "meanstd"
    c_grid: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
    max_iter: int = 2000
    select_on: str = "valid"
    cv_folds: int = 5
    n_boot: int = 1000
    seed: int = 0
    batch_size: int | None = None  # tracks per encoding batch; None: by device (encode.py)
    device: str = "auto"

    def __post_init__(self) -> None:
        _choice("--pool", self.pool, POOLS)
        if not 1 <= len(self.c_grid) <= 100:
            raise _fail("c_grid", self.c_grid, "expected 1 to 100 values of C")
        for c in self.c_grid:
            _number("c_grid", c)
        _int("max_iter", self.max_iter, 1, 1_000_000)
        _choice("select_on", self.select_on, SELECT_ON)
        _int("cv_folds", self.cv_folds, 2, MAX_FOLDS)
        _int("--n-boot", self.n_boot, 0, MAX_BOOT)
        check_seed(self.seed)
        if self.batch_size is not None:
            _int("batch_size", self.batch_size, 1, MAX_BATCH)
        check_device(self.device)


# Presets for `train` and `reproduce`: (training, model). "default" keeps one loss within
# about 10 minutes on 2 CPU cores; "quick" about a minute; "gpu" is for a CUDA machine.
# Patches stay at least 128 pixels: 1 - MS-SSIM with window 7 over 5 scales needs 97.
PRESETS: dict[str, tuple[TrainConfig, ModelConfig]] = {
    "default": (TrainConfig(), ModelConfig()),
    "quick": (
        TrainConfig(steps=200, batch_size=4, patch=128, checkpoint_every=100),
        ModelConfig(hidden_channels=32, latent_channels=16),
    ),
    "gpu": (
        TrainConfig(steps=20000, batch_size=32, patch=256, checkpoint_every=1000),
        ModelConfig(hidden_channels=128, latent_channels=32),
    ),
}
_TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}
_MODEL_FIELDS = {f.name for f in dataclasses.fields(ModelConfig)}


MAX_ACTIVATION = 2**31  # values in the first hidden activation: 8 GiB in float32


def check_training_size(train: TrainConfig, model: ModelConfig) -> None:
    """Each size is bounded alone; together they must still fit: the first layer's output
    alone holds batch x hidden x (patch / 2)^2 values."""
    values = train.batch_size * model.hidden_channels * (train.patch // 2) ** 2
    if values > MAX_ACTIVATION:
        raise UsageError(
            f"--batch {train.batch_size} x --hidden {model.hidden_channels} x --patch "
            f"{train.patch}: one activation would hold {values:.3g} values (at most 2^31); "
            "make one of them smaller"
        )


def check_preset(name: object) -> None:
    _choice("--preset", name, tuple(PRESETS))


def preset(name: str = "default", **overrides: Any) -> tuple[TrainConfig, ModelConfig]:
    """A preset's (training, model) configs with `overrides` (fields of either; None keeps
    the preset's value) applied and validated: the one merge `train`, `reproduce` and the
    API share."""
    check_preset(name)
    given = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(given) - _TRAIN_FIELDS - _MODEL_FIELDS
    if unknown:
        raise UsageError(f"unknown training or model fields: {', '.join(sorted(unknown))}")
    base_train, base_model = PRESETS[name]
    train = dataclasses.replace(base_train, **{k: given[k] for k in given if k in _TRAIN_FIELDS})
    model = dataclasses.replace(base_model, **{k: given[k] for k in given if k in _MODEL_FIELDS})
    check_training_size(train, model)
    return train, model
