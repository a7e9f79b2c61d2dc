"""Frozen parameter sets, one per step. Each is hashed into the key of what it produces,
so changing any field never reuses a stale artefact."""

from __future__ import annotations

from dataclasses import dataclass, field

from percmusic_cli import metric_names

# The metric names live in the metric registry (`percmusic_cli.metrics.registry`); configs
# check theirs against the catalogue of registered names, which imports no metric code.
MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


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


@dataclass(frozen=True)
class NlpdConfig:
    levels: int = 6


@dataclass(frozen=True)
class DistanceConfig:
    """How a pairwise matrix is computed. `tile` and `device` do not change values,
    so they are excluded from the artefact key (see `key_fields`). A metric's settings are
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

    def key_fields(self) -> dict[str, object]:
        """The metric's name and settings: what a distance artefact's key hashes."""
        # The registry sits above this module: looked up at call time, by steps only.
        from percmusic_cli.metrics import registry

        return registry.key_fields(self)


@dataclass(frozen=True)
class KnnConfig:
    k_max: int = 50
    weights: str = "uniform"  # or "distance"
    select_on: str = "valid"  # "valid" or "cv"
    refit: str = "train"  # or "train+valid"
    cv_folds: int = 5
    n_boot: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class ModelConfig:
    """Fully convolutional autoencoder; `stages` stride-2 convolutions each way."""

    in_channels: int = 1
    hidden_channels: int = 64
    latent_channels: int = 32
    stages: int = 4
    kernel_size: int = 5
    nonlinearity: str = "gdn"  # "gdn" or "relu" or "gelu"


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


@dataclass(frozen=True)
class ClassifyConfig:
    pool: str = "meanstd"
    c_grid: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
    max_iter: int = 2000
    select_on: str = "valid"
    cv_folds: int = 5
    n_boot: int = 1000
    seed: int = 0
    batch_size: int = 16
    device: str = "auto"


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
