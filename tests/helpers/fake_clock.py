"""The fake clock the messaging tests share: time moves only when a test says so, so nothing
sleeps and nothing depends on how fast the machine is."""

from __future__ import annotations

START = 1_700_000_000.0


class FakeClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
