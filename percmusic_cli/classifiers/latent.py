"""Logistic regression on autoencoder latents (Experiment 2, and the raw and untrained
controls). Its pure code is `experiments/logreg.py`; its step `steps/classify.py`
(`percmusic classify`)."""

from percmusic_cli.classifiers.registry import ClassifierSpec

SPEC = ClassifierSpec(
    name="latent",
    label="LR",
    param="C",
    description="logistic regression on autoencoder latents (Experiment 2; `percmusic classify`)",
    inputs="latents",
    figure="fig4-lr-confusion",
    figure_title="LR on latents and controls: confusion matrices (test)",
    study_arm="ae",
    order=20,
)
