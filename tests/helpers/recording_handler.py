"""A handler that keeps the events it was invoked with, and fails every invocation when told to."""

from __future__ import annotations

from typing import Any


class Handler:
    def __init__(self, fail: bool = False) -> None:
        self.events: list[Any] = []
        self.fail = fail

    def __call__(self, event: Any, context: Any) -> str:
        self.events.append(event)
        if self.fail:
            raise ValueError("boom")
        return "done"
