"""The Lua scripts of the Redis store, loaded once per client.

Each script is a file in ``lua/``; the queue scripts are prefixed with ``queue_prelude.lua``
(the queue's keys and the steps every queue script shares), those of topics, buses, archives
and streams with ``resource_prelude.lua``. redis-py runs them with EVALSHA
and loads them again when a server has lost them (a restart, SCRIPT FLUSH).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

__all__ = ["Scripts"]

_QUEUE_SCRIPTS = (
    "queue_create",
    "queue_update",
    "queue_delete",
    "queue_put",
    "queue_insert",
    "queue_receive",
    "queue_messages",
)
_RESOURCE_SCRIPTS = ("topics", "buses", "archives", "streams")
_PLAIN_SCRIPTS = ("move_tasks", "replays", "idempotency")


_SOURCES: dict[str, str] = {}


def _source(name: str) -> str:
    text = _SOURCES.get(name)
    if text is None:
        text = _SOURCES[name] = (resources.files("rulebus.stores.redis") / "lua" / f"{name}.lua").read_text(
            "utf-8"
        )
    return text


def source(name: str) -> str:
    """The text Redis runs for script ``name``."""
    if name in _QUEUE_SCRIPTS:
        return _source("queue_prelude") + "\n" + _source(name)
    if name in _RESOURCE_SCRIPTS:
        return _source("resource_prelude") + "\n" + _source(name)
    return _source(name)


class Scripts:
    """Every script, registered on one client (``redis.Redis.register_script``)."""

    def __init__(self, client: Any) -> None:
        for name in _QUEUE_SCRIPTS + _RESOURCE_SCRIPTS + _PLAIN_SCRIPTS:
            setattr(self, name, client.register_script(source(name)))

    queue_create: Any
    queue_update: Any
    queue_delete: Any
    queue_put: Any
    queue_insert: Any
    queue_receive: Any
    queue_messages: Any
    move_tasks: Any
    topics: Any
    buses: Any
    archives: Any
    replays: Any
    streams: Any
    idempotency: Any
