"""Overview: datasets, track counts per label and split part, ingest errors, feature sets and
what has been computed."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from percmusic_cli import api
from percmusic_cli.render import fmt, safe
from percmusic_cli.tui.base import DataScreen
from percmusic_cli.tui.messages import OverviewLoaded

PARTS = ("train", "valid", "test", "excluded")
MAX_ERRORS = 8


def label_table(ds: dict[str, Any]) -> Table:
    """Ok tracks per label and per part of the active split, with a total row."""
    table = Table(
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        title_justify="left",
        title=safe.title(f"{ds['name']}: tracks per label and split part"),
    )
    table.add_column("label", no_wrap=True)
    for name in ("ok", *PARTS):
        table.add_column(name, justify="right")
    labels = ds.get("labels", [])
    for row in labels:
        table.add_row(safe.text(row["label"]), *(str(row[k]) for k in ("ok", *PARTS)))
    table.add_section()
    table.add_row("total", *(str(sum(r[k] for r in labels)) for k in ("ok", *PARTS)), style="bold")
    return table


def dataset_lines(ds: dict[str, Any]) -> Text:
    counts = {r["status"]: r["n"] for r in ds.get("tracks", [])}
    text = Text()
    text.append(safe.text(ds["name"], style="bold"))
    text.append(f" ({ds['kind']}) {safe.shown(ds['root'])}\n")
    text.append(
        f"  tracks ok {counts.get('ok', 0)}, errors {counts.get('error', 0)}, "
        f"other ingest problems {ds.get('problems', 0)}"
    )
    split = safe.shown(ds.get("split") or "— (run `percmusic filter`)")
    text.append(f"\n  active split {split}")
    md5 = ", ".join(f"{r['md5_status']} {r['n']}" for r in ds.get("md5", []))
    if md5:
        text.append(f"; md5: {md5}")
    for fs in ds.get("feature_sets", []):
        text.append(
            f"\n  features {fs['feature_hash'][:12]}: {fs['n_tracks']} images of "
            f"{fs['n_mels']} x {fs['n_frames']} ({fmt.when(fs['created_at'])})"
        )
    errors = ds.get("errors", [])
    for err in errors[:MAX_ERRORS]:
        text.append(safe.text(f"\n  error {safe.shown(err['path'])}: {err['reason']}", "red", True))
    if len(errors) > MAX_ERRORS:
        text.append(
            f"\n  … {len(errors) - MAX_ERRORS} more (percmusic status --errors)", style="red"
        )
    return text


def overview(status: dict[str, Any]) -> RenderableType:
    computed = status.get("computed", {})
    head = safe.text(f"Store {safe.shown(status['store'])}\n", style="bold", keep_newlines=True)
    head.append(
        f"computed: {computed.get('distance_sets', 0)} distance matrices, "
        f"{computed.get('runs', 0)} runs, {computed.get('models', 0)} models, "
        f"{computed.get('latent_sets', 0)} latent sets",
        style="not bold",
    )
    parts: list[RenderableType] = [head]
    if not status.get("datasets"):
        parts.append(Text("\nNo datasets yet: run `percmusic ingest PATH` or `percmusic demo`."))
    for ds in status.get("datasets", []):
        parts += [Text(""), dataset_lines(ds), label_table(ds)]
    return Group(*parts)


class OverviewScreen(DataScreen):
    """What the store holds."""

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("reading the store…", id="overview")

    def fetch(self) -> Message:
        return OverviewLoaded(api.status(self.store, with_errors=True))

    def on_overview_loaded(self, message: OverviewLoaded) -> None:
        self.loaded()
        self.status = message.status
        self.query_one("#overview", Static).update(overview(message.status))
