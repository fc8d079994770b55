"""A ``rulebus worker module:broker`` process for tests, and a patient wait: real processes and
real time, where every wait polls for what must happen with a generous deadline that only a
broken worker reaches (no assertion is about how long anything took)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

#: How long a test waits for what must happen before it fails (never reached when it works).
PATIENCE = 90.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


class Worker:
    """One ``rulebus worker app:broker`` process in the app's folder."""

    def __init__(self, folder: Path, *options: str, env: dict[str, str] | None = None) -> None:
        self.log = folder / f"worker-{time.monotonic_ns()}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rulebus", "worker", "app:broker", "--log-level", "info", *options],
                cwd=folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        wait_for(lambda: "event source mappings" in self.output() or self.process.poll() is not None, "start")
        assert self.process.poll() is None, self.output()

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"the worker did not stop:\n{self.output()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
