"""The memory store's idempotency records."""

from __future__ import annotations

from dataclasses import replace

from rulebus.stores.base import IdempotencyStore
from rulebus.stores.memory.changes import Changes
from rulebus.stores.records import COMPLETED, IN_PROGRESS, IdempotencyRecord

__all__ = ["MemoryIdempotencyStore"]


class MemoryIdempotencyStore(IdempotencyStore):
    """Records in a dict, every step under the store's one lock."""

    def __init__(self, changes: Changes) -> None:
        self._lock = changes.lock
        self._records: dict[str, IdempotencyRecord] = {}

    def claim_idempotency_key(
        self, key: str, token: str, now: float, lease_until: float
    ) -> IdempotencyRecord | None:
        with self._lock:
            record = self._records.get(key)
            if record is not None and record.expires_at > now:
                return record
            self._records[key] = IdempotencyRecord(key, IN_PROGRESS, token, lease_until)
            return None

    def complete_idempotency_key(self, key: str, token: str, result: str | None, expires_at: float) -> bool:
        with self._lock:
            record = self._records.get(key)
            if record is None or record.token != token:
                return False
            self._records[key] = replace(record, status=COMPLETED, expires_at=expires_at, result=result)
            return True

    def release_idempotency_key(self, key: str, token: str) -> bool:
        with self._lock:
            record = self._records.get(key)
            if record is None or record.token != token:
                return False
            del self._records[key]
            return True

    def get_idempotency_record(self, key: str, now: float) -> IdempotencyRecord | None:
        with self._lock:
            record = self._records.get(key)
            return record if record is not None and record.expires_at > now else None

    def delete_idempotency_key(self, key: str) -> bool:
        with self._lock:
            return self._records.pop(key, None) is not None

    def purge_idempotency_keys(self, now: float) -> int:
        with self._lock:
            expired = [key for key, record in self._records.items() if record.expires_at <= now]
            for key in expired:
                del self._records[key]
            return len(expired)
