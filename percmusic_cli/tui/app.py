"""The dashboard app: one factory (`build_app`) shared by the CLI and the tests.

Screens are modes switched with the number keys; each keeps its own stack (a run's detail
opens over Results). Every read runs in a thread worker with a short lock timeout, so the
app never holds a database connection and never waits long on a writer."""

from __future__ import annotations

from pathlib import Path

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

SCREENS = Binding.Group("Screens", compact=True)

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
        # One compact footer entry for the six screens ("1 2 3 4 5 6 Screens").
        Binding("1", "switch_mode('overview')", "Overview", group=SCREENS),
        Binding("2", "switch_mode('results')", "Results", group=SCREENS),
        Binding("3", "switch_mode('distances')", "Distances", group=SCREENS),
        Binding("4", "switch_mode('training')", "Training", group=SCREENS),
        Binding("5", "switch_mode('tracks')", "Tracks", group=SCREENS),
        Binding("6", "switch_mode('claims')", "Claims", group=SCREENS),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+s", "screenshot", "Screenshot", show=False),
    ]

    def __init__(self, store: Store, figures_dir: Path | None = None) -> None:
        super().__init__()
        self.store = store
        self.crash: Exception | None = None
        self.sub_title = safe.shown(store.root)
        self.figures_dir = figures_dir or store.root / "figures"

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """An SVG of the screen in the store's figures/ folder (or `dashboard --out`), not
        ~/Downloads, which may not exist; the notification says where it went."""
        folder = Path(path) if path else self.figures_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename, str(folder))
        except OSError as exc:
            self.notify(f"screenshot not saved: {exc}", severity="error", timeout=8, markup=False)
            return
        self.notify(f"screenshot saved to {saved}", timeout=8, markup=False)

    def on_mount(self) -> None:
        self.switch_mode("overview")

    def _handle_exception(self, error: Exception) -> None:
        # Textual prints a traceback with locals and then returns from run() as if all was
        # well (exit 0). Keep the error instead: `run_dashboard` raises it, and the CLI says
        # it in one line with a non-zero exit (the traceback with --debug).
        self.crash = error
        super()._handle_exception(error)
        self._exit_renderables.clear()


def build_app(
    store: Store, busy_timeout_s: float = BUSY_TIMEOUT_S, figures_dir: Path | None = None
) -> Dashboard:
    """The dashboard over `store`, with reads that give up on a locked store quickly."""
    return Dashboard(Store(store.root, busy_timeout_s=busy_timeout_s), figures_dir)


def run_dashboard(store: Store, figures_dir: Path | None = None) -> None:
    """Run the dashboard; an error that stopped it is raised here, after the terminal is
    restored, so the CLI reports it like any other command's."""
    app = build_app(store, figures_dir=figures_dir)
    app.run()
    if app.crash is not None:
        raise app.crash
