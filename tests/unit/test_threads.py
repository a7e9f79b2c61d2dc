"""The start-up thread policy: passive OpenMP waits unless the user chose otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

from percmusic_cli.threads import POLICY, apply_thread_policy, thread_environment

CODE = "import os, percmusic_cli; print(os.environ['OMP_WAIT_POLICY'], os.environ['KMP_BLOCKTIME'])"


def _child(**overrides: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in POLICY}
    env.update(overrides)
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_importing_the_package_sets_passive_waits() -> None:
    assert _child() == "PASSIVE 0"


def test_a_value_the_user_exported_wins() -> None:
    assert _child(OMP_WAIT_POLICY="ACTIVE") == "ACTIVE 0"


def test_apply_only_fills_missing_keys() -> None:
    env = {"KMP_BLOCKTIME": "200"}
    apply_thread_policy(env)
    assert env == {"KMP_BLOCKTIME": "200", "OMP_WAIT_POLICY": "PASSIVE"}
    worker = thread_environment()
    worker["OMP_WAIT_POLICY"] = "changed"  # a copy: callers may extend it
    assert POLICY["OMP_WAIT_POLICY"] == "PASSIVE"
