"""KNN on the stored distance matrices (Experiment 1): the metric used directly as the
distance. Its pure code is `experiments/knn.py`; its step `steps/knn.py` (`percmusic knn`)."""

from percmusic_cli.classifiers.registry import ClassifierSpec

SPEC = ClassifierSpec(
    name="knn",
    label="KNN",
    param="k",
    description="k nearest neighbours under the metric (Experiment 1; `percmusic knn`)",
    inputs="distances",
    figure="fig3-knn-confusion",
    figure_title="KNN: confusion matrices (test)",
    curve_figure=True,
    study_arm="knn",
    order=10,
)
