"""Opening brokers and streams the same way in a test and in the processes it starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rulebus import Broker, Stream


def stream_broker(path: Path | str | None, **kwargs: Any) -> Broker:
    return Broker(path, **kwargs)


def open_test_stream(broker: Broker, name: str, shards: int | None = None) -> Stream:
    return broker.stream(name, shards=shards)
