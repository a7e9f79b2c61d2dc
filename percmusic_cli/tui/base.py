"""The screen every dashboard view builds on: it reads in a thread worker and shows a clear
notice instead of crashing when the store is empty, locked or unreadable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from percmusic_cli.api import Store
from percmusic_cli.errors import PercmusicError, StoreLockedError
from percmusic_cli.render import safe
from percmusic_cli.tui.messages import LoadFailed


class HasStore(Protocol):
    store: Store


def empty_text(store: Store) -> str:
    return (
        f"The store at {store.root} is empty.\n\n"
        f"Run `percmusic --store {store.root} demo` for the synthetic demo, or "
        "`percmusic ingest PATH` to ingest your own audio, then press r."
    )


def read(store: Store, fetch: Callable[[], Message]) -> Message:
    """Run `fetch` and return its message, or a LoadFailed that says what went wrong."""
    if not store.exists():
        return LoadFailed("empty", empty_text(store))
    try:
        return fetch()
    except StoreLockedError as exc:
        return LoadFailed(
            "locked",
            f"{exc}.\n\nThe dashboard only reads and does not wait for a writer: press r to retry.",
        )
    except PercmusicError as exc:
        return LoadFailed("error", f"{exc}\n\nPress r to retry.")
    except Exception as exc:  # a dashboard shows what broke rather than exiting
        return LoadFailed("error", f"{type(exc).__name__}: {exc}\n\nPress r to retry.")


class DataScreen(Screen[None]):
    """Header, a body the subclass composes, a notice for failures, and the footer."""

    # q first: the footer lists the screen's keys before the app's, and cuts what does
    # not fit at 80 columns; Quit must never be the part that is cut.
    BINDINGS = [Binding("q", "app.quit", "Quit"), Binding("r", "reload", "Reload")]  # noqa: RUF012
    DEFAULT_CSS = """
    DataScreen #notice { display: none; margin: 1 2; padding: 1 2; border: round $warning;
                         height: auto; }
    DataScreen.failed #notice { display: block; }
    DataScreen.failed #body { display: none; }
    DataScreen #body { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.failure: LoadFailed | None = None

    @property
    def store(self) -> Store:
        return cast(HasStore, self.app).store

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="body"):
            yield from self.compose_body()
        yield Static(id="notice")
        yield Footer(show_command_palette=False)  # ctrl+p still opens it

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load()

    def fetch(self) -> Message:
        """Read what the screen shows (runs in a thread); return the message to post."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        self.post_message(read(self.store, self.fetch))

    def on_load_failed(self, message: LoadFailed) -> None:
        message.stop()
        self.failure = message
        self.add_class("failed")
        self.query_one("#notice", Static).update(safe.text(message.text, keep_newlines=True))

    def loaded(self) -> None:
        """Call when data arrived: hides a notice left from an earlier failure."""
        self.failure = None
        self.remove_class("failed")
