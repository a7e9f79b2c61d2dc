"""A lost Dask scheduler is reported by the step in one line: what Dask and tornado log about
it (with tracebacks) stays off the terminal once a Dask client is made."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("distributed")

# A fresh process, so the handlers are Dask's own (writing to the real stderr), not pytest's.
SCRIPT = """
import sys
import distributed  # its logging config gives tornado.application a handler
from tornado.ioloop import IOLoop
from percmusic_cli.execution import backends
if sys.argv[1] == "quiet":
    backends._quiet_dask_logs()
def lost():
    raise ConnectionResetError(104, "Connection reset by peer")
loop = IOLoop(make_current=False)
loop.add_callback(lost)
loop.add_callback(loop.stop)
loop.start()
loop.close()
print("done")
"""


def _stderr(mode: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr
    return out.stderr


def test_an_exception_in_a_tornado_callback_prints_no_traceback_once_quieted() -> None:
    assert "Traceback" in _stderr("as-dask-configures-it")  # what a user saw
    assert "Traceback" not in _stderr("quiet")
