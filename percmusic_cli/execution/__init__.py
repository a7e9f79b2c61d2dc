"""Sessions and where tasks run: the only scheduling code. Steps import this package's
public names (`Session`, `as_session`, `run_tasks`, `task_reporter`, `memory`) and
nothing else of it; it imports no step."""

from percmusic_cli.execution import memory
from percmusic_cli.execution.collect import run_tasks, task_reporter
from percmusic_cli.execution.session import KeptLog, Session, as_session

__all__ = ["KeptLog", "Session", "as_session", "memory", "run_tasks", "task_reporter"]
