"""Rich tables and plotext charts drawn from result objects: formatting only, no scoring.

Used by the CLI and the Textual dashboard; the core never imports this package.
"""

from percmusic_cli.render.confusion import confusion_table, shade
from percmusic_cli.render.plots import curve_plot, violin_plot
from percmusic_cli.render.tables import (
    RUN_KEYS,
    distance_summary_table,
    evaluation_table,
    per_class_table,
    runs_table,
)

__all__ = [
    "RUN_KEYS",
    "confusion_table",
    "curve_plot",
    "distance_summary_table",
    "evaluation_table",
    "per_class_table",
    "runs_table",
    "shade",
    "violin_plot",
]
