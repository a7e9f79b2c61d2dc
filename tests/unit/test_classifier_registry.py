"""The classifier registry: the built-ins keep their stored run kinds, labels and figure
names; a bad spec is refused with its reason; unknown kinds of stored runs fall back."""

from __future__ import annotations

import dataclasses

import pytest

from percmusic_cli.classifiers import registry
from percmusic_cli.classifiers.registry import ClassifierSpec
from percmusic_cli.errors import UsageError


def test_builtins_keep_the_stored_kinds_labels_and_figures() -> None:
    # Stored runs carry these kinds and run ids start with them: renaming one orphans a store.
    knn, latent = registry.get("knn"), registry.get("latent")
    assert registry.names()[:2] == ("knn", "latent")
    assert (knn.label, knn.param, knn.inputs) == ("KNN", "k", "distances")
    assert (latent.label, latent.param, latent.inputs) == ("LR", "C", "latents")
    assert (knn.figure_name, latent.figure_name) == ("fig3-knn-confusion", "fig4-lr-confusion")
    assert knn.curve_figure and not latent.curve_figure
    assert [s.study_arm for s in registry.study_specs()] == ["knn", "ae"]
    assert knn.origin == latent.origin == registry.BUILT_IN
    assert registry.broken() == {}


def test_unknown_name_lists_the_registered_ones_and_stored_kinds_fall_back() -> None:
    with pytest.raises(UsageError) as err:
        registry.get("svm")
    assert "unknown classifier 'svm'" in str(err.value)
    assert all(name in str(err.value) for name in registry.names())
    assert registry.find("svm") is None
    assert (registry.label("svm"), registry.param_name("svm")) == ("svm", "param")
    assert (registry.label("knn"), registry.param_name("latent")) == ("KNN", "C")


def test_defaults_of_an_optional_field() -> None:
    spec = ClassifierSpec(name="probe", label="MLP", param="h")
    assert spec.figure_name == "fig-probe-confusion"
    assert spec.figure_heading == "MLP: confusion matrices (test)"
    assert spec.inputs == "distances" and spec.fit is None and spec.default_settings() is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"name": "other"}, "registered as 'probe'"),
        ({"name": "My-Probe"}, "lower-case"),
        ({"label": ""}, "label"),
        ({"inputs": "audio"}, "inputs 'audio'"),
        ({"inputs": "latents", "fit": lambda *a: None}, "only a distance classifier"),
        ({"config_type": int}, "config_type"),
    ],
)
def test_a_bad_spec_is_refused_with_its_reason(change: dict[str, object], reason: str) -> None:
    spec = dataclasses.replace(ClassifierSpec(name="probe", label="MLP", param="h"), **change)
    name = "probe" if "name" not in change or change["name"] != "My-Probe" else "My-Probe"
    with pytest.raises((TypeError, ValueError), match=reason):
        registry._checked(spec, name)
