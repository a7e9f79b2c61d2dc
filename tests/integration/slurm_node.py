"""A real single-node Slurm (munged, slurmctld, slurmd from the Debian packages) started in
a temporary folder with a generated slurm.conf, and stopped after. Needs root and the
packages; `unavailable()` says why it cannot run here (the test then skips, never mocks)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TOOLS = ("munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scontrol", "squeue")


def unavailable() -> str | None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return (
            f"no Slurm here ({', '.join(missing)} not on PATH): "
            "apt-get install slurmctld slurmd munge"
        )
    if os.geteuid() != 0:
        return "starting slurmd needs root"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def _conf(tmp: Path, host: str, cpus: int) -> str:
    return "\n".join(
        [
            "ClusterName=percmusic-test",
            f"SlurmctldHost={host}",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={tmp}/munge.sock",
            f"StateSaveLocation={tmp}/state",
            f"SlurmdSpoolDir={tmp}/spool",
            f"SlurmctldPidFile={tmp}/slurmctld.pid",
            f"SlurmdPidFile={tmp}/slurmd.pid",
            f"SlurmctldLogFile={tmp}/slurmctld.log",
            f"SlurmdLogFile={tmp}/slurmd.log",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SchedulerType=sched/builtin",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "ReturnToService=2",
            "MpiDefault=none",
            "SlurmdParameters=config_overrides",
            f"NodeName={host} CPUs={cpus} RealMemory=8000 State=UNKNOWN",
            f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


@contextmanager
def single_node(tmp: Path, cpus: int = 2, timeout: float = 60.0) -> Iterator[dict[str, str]]:
    """Start munged, slurmctld and slurmd; yield the environment their clients need."""
    host = socket.gethostname().split(".")[0]
    for sub in ("state", "spool"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    key = tmp / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = tmp / "slurm.conf"
    conf.write_text(_conf(tmp, host, cpus))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    procs: list[subprocess.Popen[bytes]] = []
    log = (tmp / "daemons.log").open("ab")
    try:
        munge = [
            "munged", "-F", "--force", f"--key-file={key}", f"--socket={tmp}/munge.sock",
            f"--pid-file={tmp}/munged.pid", f"--log-file={tmp}/munged.log",
            f"--seed-file={tmp}/munged.seed",
        ]  # fmt: skip
        procs.append(subprocess.Popen(munge, stdout=log, stderr=log))
        _wait(lambda: (tmp / "munge.sock").exists(), timeout, "munged", tmp)
        procs.append(
            subprocess.Popen(
                ["slurmctld", "-D", "-i", "-f", str(conf)], env=env, stdout=log, stderr=log
            )
        )
        procs.append(
            subprocess.Popen(["slurmd", "-D", "-f", str(conf)], env=env, stdout=log, stderr=log)
        )

        def idle() -> bool:
            out = subprocess.run(
                ["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True
            )
            return out.returncode == 0 and out.stdout.strip() in ("idle", "mix")

        _wait(idle, timeout, "slurmd (node idle)", tmp)
        yield env
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


def _wait(ready: object, timeout: float, what: str, tmp: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.5)
    logs = " | ".join(
        p.read_text(errors="replace").strip().splitlines()[-1]
        for p in sorted(tmp.glob("*.log"))
        if p.stat().st_size
    )
    raise RuntimeError(f"{what} did not come up within {timeout:g} s: {logs}")
