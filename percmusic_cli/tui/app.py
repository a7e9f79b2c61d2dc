"""The dashboard app: one factory (`build_app`) shared by the CLI and the tests.

Screens are modes switched with the number keys; each keeps its own stack (a run's detail
opens over Results). Every read runs in a thread worker with a short lock timeout, so the
app never holds a database connection and never waits long on a writer."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from percmusic_cli.api import Store
from percmusic_cli.render import safe
from percmusic_cli.tui.screens.claims import ClaimsScreen
from percmusic_cli.tui.screens.distances import DistancesScreen
from percmusic_cli.tui.screens.overview import OverviewScreen
from percmusic_cli.tui.screens.results import ResultsScreen
from percmusic_cli.tui.screens.tracks import TracksScreen
from percmusic_cli.tui.screens.training import TrainingScreen

# How long a read waits for a writer's connection before the screen says "locked".
BUSY_TIMEOUT_S = 2.0


class Dashboard(App[None]):
    """percmusic dashboard over one store (read-only)."""

    TITLE = "percmusic"
    MODES = {  # noqa: RUF012 (Textual reads these class attributes)
        "overview": OverviewScreen,
        "results": ResultsScreen,
        "distances": DistancesScreen,
        "training": TrainingScreen,
        "tracks": TracksScreen,
        "claims": ClaimsScreen,
    }
    BINDINGS = [  # noqa: RUF012
        Binding("1", "switch_mode('overview')", "Overview"),
        Binding("2", "switch_mode('results')", "Results"),
        Binding("3", "switch_mode('distances')", "Distances"),
        Binding("4", "switch_mode('training')", "Training"),
        Binding("5", "switch_mode('tracks')", "Tracks"),
        Binding("6", "switch_mode('claims')", "Claims"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.sub_title = safe.shown(store.root)

    def on_mount(self) -> None:
        self.switch_mode("overview")


def build_app(store: Store, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Dashboard:
    """The dashboard over `store`, with reads that give up on a locked store quickly."""
    return Dashboard(Store(store.root, busy_timeout_s=busy_timeout_s))


def run_dashboard(store: Store) -> None:
    build_app(store).run()
