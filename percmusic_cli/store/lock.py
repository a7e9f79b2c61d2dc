"""The writer lock: one writing percmusic process per store at a time.

DuckDB connections are kept short so readers (dashboard, `results`) can get in between
writes; this lock is what keeps two long writing jobs apart."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from percmusic_cli.errors import StoreError, StoreLockedError

LOCK_NAME = ".writer.lock"


def open_lock_file(path: Path) -> int:
    """Open (creating) the lock file, refusing a symlink or anything but a regular file:
    the holder's PID is written into it, which must never truncate someone else's file."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(
                f"lock file {path} is a symbolic link; remove it (percmusic never writes "
                "through a link)"
            ) from exc
        raise StoreError(f"cannot create the lock file {path}: {exc.strerror}") from exc
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
        os.close(fd)
        what = "has other hard links" if stat.S_ISREG(st.st_mode) else "is not a regular file"
        raise StoreError(f"lock file {path} {what}; remove it (it is never written through)")
    return fd


class WriterLock:
    def __init__(
        self,
        root: Path,
        wait_s: float = 0.0,
        command: str = "",
        on_acquire: Callable[[], object] | None = None,
    ) -> None:
        self.path = root / LOCK_NAME
        self.on_acquire = on_acquire
        self.wait_s = wait_s
        self.command = command or " ".join(
            Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:3])
        )
        self._fd: int | None = None

    def _holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return "another process"
        return text or "another process"

    def acquire(self) -> None:
        fd = open_lock_file(self.path)
        deadline = time.monotonic() + self.wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = self._holder()
                    os.close(fd)
                    raise StoreLockedError(
                        f"store {self.path.parent} is in use by {holder}; "
                        "wait for it or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        # Record who holds it, for the message the next process prints.
        os.ftruncate(fd, 0)
        os.write(fd, f"PID {os.getpid()} ({self.command})".encode())
        self._fd = fd
        if self.on_acquire is not None:
            try:
                self.on_acquire()  # e.g. sweep what a killed writer left (no other writer runs)
            except BaseException:
                self.release()  # `with` never reaches __exit__ when __enter__ fails
                raise

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
