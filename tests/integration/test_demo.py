"""`demo` is the study on the synthetic set (one seed, one fold): it ends with the study's
table and claims, and stores the study, so the dashboard's Claims screen has rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from percmusic_cli import api

pytestmark = pytest.mark.slow


@pytest.mark.timeout(1500)  # the quick study: three autoencoders and every arm
@pytest.mark.usefixtures("short_quick_preset")
def test_demo_is_the_study_and_stores_it(tmp_path: Path) -> None:
    store = api.open_store(tmp_path / "store")
    assert api.latest_study(store) is None
    result = api.demo(store, device="cpu", clips_per_class=4)
    assert (result["seeds"], result["folds"], result["preset"]) == (1, 1, "quick")
    assert result["claims"] and {"kind", "metric"} <= set(result["claims"][0])
    stored = api.latest_study(store)
    assert stored is not None and stored["claims"] == result["claims"]
    kinds = {r["kind"] for r in api.results(store)}
    assert {"knn", "latent"} <= kinds
