"""The Redis store's idempotency keys (``rulebus.idempotent``): every record in one hash with
its expiry beside it (one slot), each step a Lua script (``lua/idempotency.lua``)."""

from __future__ import annotations

import json
from typing import Any

from rulebus.stores.base import IdempotencyStore
from rulebus.stores.records import IdempotencyRecord
from rulebus.stores.redis.connection import Connection

__all__ = ["RedisIdempotencyStore"]


def _record(key: str, text: str) -> IdempotencyRecord:
    fields = json.loads(text)
    return IdempotencyRecord(
        key, fields[0], fields[1], float(fields[2]), fields[3] if len(fields) > 3 else None
    )


class RedisIdempotencyStore(IdempotencyStore):
    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._keys = [connection.key("{idem}:records"), connection.key("{idem}:expiry")]

    def _step(self, step: str, key: str, *args: str) -> Any:
        return self._db.run("idempotency", self._keys, [step, key, *args])

    def claim_idempotency_key(
        self, key: str, token: str, now: float, lease_until: float
    ) -> IdempotencyRecord | None:
        live = self._step("claim", key, token, repr(float(now)), repr(float(lease_until)))
        return _record(key, live) if isinstance(live, str) and live else None

    def complete_idempotency_key(self, key: str, token: str, result: str | None, expires_at: float) -> bool:
        marked = "" if result is None else "=" + result
        return bool(self._step("complete", key, token, marked, repr(float(expires_at))))

    def release_idempotency_key(self, key: str, token: str) -> bool:
        return bool(self._step("release", key, token))

    def get_idempotency_record(self, key: str, now: float) -> IdempotencyRecord | None:
        text = self._db.call("HGET", self._keys[0], key)
        if text is None:
            return None
        record = _record(key, text)
        return record if record.expires_at > now else None

    def delete_idempotency_key(self, key: str) -> bool:
        return bool(self._step("delete", key))

    def purge_idempotency_keys(self, now: float) -> int:
        return int(self._step("purge", "", repr(float(now))))
