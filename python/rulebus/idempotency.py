"""Idempotent handlers: make an at-least-once consumer run its work once per key.

Queues, topics and buses deliver at least once: a message whose consumer crashed before deleting
it comes back, a bus target that raised is retried, a replay sends old events again. Wrapping the
handler makes duplicates harmless::

    @rulebus.idempotent(broker, key=lambda message: message.message_id, ttl=3600)
    def charge(message: rulebus.sqs.queue.Message) -> dict[str, str]:
        ...

The semantics, precisely (the records live on the broker's store, so on an SQLite file they are
durable and shared by every broker and process on it; all times are the broker's clock):

1. The key is ``key(*args, **kwargs)``, a str, namespaced by ``name`` (the handler's module and
   qualified name unless given), so two handlers never share keys.
2. Before running, the call *claims* the key atomically: an IN_PROGRESS record that holds for
   ``lease`` seconds. Of any number of concurrent calls with one key (threads, processes) exactly
   one wins the claim and runs the handler.
3. When the handler returns, its record becomes COMPLETED, kept ``ttl`` seconds from then with the
   result (when ``store_result``; as JSON, so the result must be JSON-serialisable and comes back
   as its JSON round trip: tuples as lists). The first call returns the handler's own value.
4. A call that finds a COMPLETED record returns the recorded result (None when not kept) without
   running the handler. One that finds an IN_PROGRESS record raises
   :class:`IdempotencyInProgressError`: for a queue consumer, leave the message undeleted so it is
   redelivered after its visibility timeout; a bus target that raises is retried by the bus.
5. When the handler raises, the claim is released and the exception propagates: the next delivery
   runs the handler again. Nothing is recorded for failures.
6. When the process dies mid-way (no chance to release), the IN_PROGRESS record expires with its
   lease and the next call runs the handler. Pick ``lease`` above the handler's longest run (as a
   visibility timeout): a handler still running when its lease ends may be run by another caller
   too, and then its completion is not recorded over the newer claim.
7. After the TTL the key is unknown again: a call with it runs the handler. Expired records are
   removed from time to time (``Idempotency.purge``), never consulted.

If the result cannot be encoded as JSON, the key is still recorded as COMPLETED without a result
(its side effects happened, so it must not run again) and the call raises ``TypeError``.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from rulebus import validation
from rulebus._errors import RulebusError
from rulebus.stores.base import IdempotencyStore
from rulebus.stores.records import COMPLETED, IdempotencyRecord

if TYPE_CHECKING:
    from rulebus.broker import Broker

__all__ = ["DEFAULT_LEASE", "DEFAULT_TTL", "Idempotency", "IdempotencyInProgressError", "idempotent"]

#: Seconds a completed key is remembered unless told (one hour, as Powertools' default).
DEFAULT_TTL = 3600.0
#: Seconds an IN_PROGRESS claim holds unless told: SQS's longest default wait for a redelivery is
#: its 30 s visibility timeout, so a dead claim should not outlive a couple of those.
DEFAULT_LEASE = 60.0
#: Expired records are swept at most this often (seconds of the broker's clock) by each helper.
PURGE_INTERVAL = 60.0

R = TypeVar("R")


class IdempotencyInProgressError(RulebusError):
    """Another call holds the key's claim and has not finished (nor let its lease run out)."""

    def __init__(self, key: str, lease_expires_at: float) -> None:
        super().__init__(
            f"Idempotency key {key!r} is already in progress (its lease ends at {lease_expires_at})."
        )
        self.key = key
        self.lease_expires_at = lease_expires_at


def _positive(value: float, name: str) -> float:
    seconds = validation.finite_number(value, name, validation.IDEMPOTENCY)
    if not seconds > 0:
        raise validation.IDEMPOTENCY.invalid(name, seconds, "Member must be a positive number of seconds")
    return float(seconds)


class Idempotency:
    """The idempotency records of one handler (namespace ``name``) on ``broker``'s store. See the
    module docstring for the semantics; :func:`idempotent` is the usual way in."""

    def __init__(
        self,
        broker: Broker,
        name: str,
        ttl: float = DEFAULT_TTL,
        lease: float = DEFAULT_LEASE,
        store_result: bool = True,
    ) -> None:
        self.name = validation.text(name, "name", validation.IDEMPOTENCY)
        self.ttl = _positive(ttl, "ttl")
        self.lease = _positive(lease, "lease")
        self.store_result = store_result
        self._clock = broker.context.clock
        self._store: IdempotencyStore = broker.context.store.idempotency
        self._purged = float("-inf")

    def _key(self, key: str) -> str:
        validation.text(key, "key", validation.IDEMPOTENCY)
        return f"{self.name}#{key}"

    def run(self, key: str, function: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``function(*args, **kwargs)`` once per ``key`` within the TTL (see the module docstring)."""
        full_key = self._key(key)
        if not callable(function):
            raise validation.IDEMPOTENCY.wrong_type("function", function, "callable")
        now = self._clock()
        self.purge(now)
        token = uuid.uuid4().hex
        held = self._store.claim_idempotency_key(full_key, token, now, now + self.lease)
        if held is not None:
            if held.status == COMPLETED:
                # Typed as the handler's result, though it is its JSON round trip (module docstring).
                return cast(R, json.loads(held.result) if held.result is not None else None)
            raise IdempotencyInProgressError(key, held.expires_at)
        try:
            result = function(*args, **kwargs)
        except BaseException:
            # Failed (or interrupted) before completing: let the next delivery try again.
            self._store.release_idempotency_key(full_key, token)
            raise
        encoded: str | None = None
        error: TypeError | None = None
        if self.store_result and result is not None:
            try:
                encoded = json.dumps(result)
            except (TypeError, ValueError) as exc:
                error = TypeError(f"the result of idempotent {self.name} is not JSON-serialisable: {exc}")
        self._store.complete_idempotency_key(full_key, token, encoded, self._clock() + self.ttl)
        if error is not None:
            raise error
        return result

    def record(self, key: str) -> IdempotencyRecord | None:
        """The key's live record (IN_PROGRESS or COMPLETED), or None."""
        return self._store.get_idempotency_record(self._key(key), self._clock())

    def forget(self, key: str) -> bool:
        """Drop the key's record whatever its state, so the next call runs; whether there was one."""
        return self._store.delete_idempotency_key(self._key(key))

    def purge(self, now: float | None = None) -> int:
        """Remove expired records of every handler on the store (at most once a PURGE_INTERVAL
        unless called with no ``now``); how many."""
        if now is None:
            now = self._clock()
        elif validation.finite_number(now, "now", validation.IDEMPOTENCY) - self._purged < PURGE_INTERVAL:
            return 0
        self._purged = now
        return self._store.purge_idempotency_keys(now)


class IdempotentFunction(Generic[R]):
    """A handler wrapped by :func:`idempotent`: call it as the handler; ``.idempotency`` is its
    :class:`Idempotency` (records, ``forget``), ``.key`` its key function."""

    def __init__(self, function: Callable[..., R], key: Callable[..., str], idempotency: Idempotency) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.key = key
        self.idempotency = idempotency

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        return self.idempotency.run(self.key(*args, **kwargs), self.function, *args, **kwargs)

    def __get__(self, instance: object, owner: type | None = None) -> Callable[..., R]:
        # A decorated method binds as a function would; its key function gets ``self`` first too.
        return self if instance is None else functools.partial(self, instance)


def idempotent(
    broker: Broker,
    key: Callable[..., str],
    ttl: float = DEFAULT_TTL,
    lease: float = DEFAULT_LEASE,
    name: str | None = None,
    store_result: bool = True,
) -> Callable[[Callable[..., R]], IdempotentFunction[R]]:
    """Decorate a handler so it runs once per ``key(*args, **kwargs)`` within ``ttl`` seconds,
    with claims holding ``lease`` seconds, its records on ``broker``'s store under ``name``
    (default: the handler's ``module.qualname``). See the module docstring for the semantics."""

    def decorate(function: Callable[..., R]) -> IdempotentFunction[R]:
        namespace = name if name is not None else f"{function.__module__}.{function.__qualname__}"
        return IdempotentFunction(function, key, Idempotency(broker, namespace, ttl, lease, store_result))

    return decorate
