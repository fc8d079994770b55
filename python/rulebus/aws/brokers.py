"""The brokers behind the wire: one per (account, region), as AWS scopes its resources.

A queue created in us-east-1 is not seen from eu-west-1, and one account's topics are not
another's: each scope gets its own :class:`~rulebus.Broker` with its own store, made on first
use. Why a store per scope and not one store with names prefixed: a store keys queues, topics,
buses and streams by name alone, and a broker's ARNs carry one region and account; separate
stores keep every AWS rule (name uniqueness, limits, recently-deleted names) per scope with no
change to the stores, and let a scope's state be deleted by deleting its file.

``store`` says where each scope keeps its state:

- ``None`` or ``"memory://"``: memory (the default);
- an SQLite URL or path (``"sqlite:///state/aws.db"``, ``"state/aws.db"``): a file per scope
  beside it, named with the account and region before the suffix
  (``state/aws.000000000000.us-east-1.db``);
- a callable ``(account, region) -> Store | str``: whatever it returns for each scope.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Union

from rulebus import validation
from rulebus.broker import Broker
from rulebus.stores import Store
from rulebus.stores.records import Clock

if TYPE_CHECKING:
    from rulebus.sns.signing import Signer

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_REGION", "Brokers", "StoreFactory", "StoreSpec", "scoped_store_url"]

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"

StoreFactory = Callable[[str, str], Union[Store, str]]
StoreSpec = Union[str, "os.PathLike[str]", StoreFactory, None]


def scoped_store_url(url: str | os.PathLike[str], account: str, region: str) -> str:
    """The store URL of one scope: memory stays memory; a file gets ``.<account>.<region>``
    before its suffix (or at its end when it has none)."""
    text = os.fspath(url)
    if text == "memory://":
        return text
    head, separator, path = text.rpartition("://") if "://" in text else ("", "", text)
    directory, name = os.path.split(path)
    stem, dot, suffix = name.rpartition(".")
    scoped = f"{stem}.{account}.{region}.{suffix}" if dot and stem else f"{name}.{account}.{region}"
    return f"{head}{separator}{os.path.join(directory, scoped)}"


class Brokers:
    """The registry of brokers by (account, region), made on first use; thread-safe.

    ``clock`` and ``broker_options`` (any of :class:`~rulebus.Broker`'s keyword arguments but
    ``region``, ``account`` and ``store``) are given to every broker. With an ``endpoint_url``
    and no ``sns_signer``, one :class:`~rulebus.sns.signing.Signer` is made for them all.
    """

    def __init__(self, store: StoreSpec = None, clock: Clock | None = None, **broker_options: Any) -> None:
        if isinstance(store, Store):
            raise TypeError(
                "one Store cannot hold several accounts and regions: give a URL, or a factory "
                "(account, region) -> Store"
            )
        for name in ("region", "account", "store", "path"):
            if name in broker_options:
                raise TypeError(f"Brokers sets each broker's {name}: do not pass it")
        if broker_options.get("endpoint_url") is not None and broker_options.get("sns_signer") is None:
            # A server: one signer for all its scopes, whose certificate it serves (its key is
            # made on first use; see rulebus.sns.signing).
            from rulebus.sns.signing import Signer

            broker_options["sns_signer"] = Signer()
        #: What signs every scope's SNS HTTP/S deliveries (None without an ``endpoint_url``).
        self.sns_signer: Signer | None = broker_options.get("sns_signer")
        self._store = store
        self._clock = clock
        self._options = broker_options
        self._brokers: dict[tuple[str, str], Broker] = {}
        self._files: set[str] = set()  # the SQLite files the scopes were made on, for wipe()
        self._lock = threading.Lock()

    def get(self, account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION) -> Broker:
        """The broker of ``account`` in ``region`` (made now if it is the first call)."""
        key = (account, region)
        broker = self._brokers.get(key)
        if broker is not None:
            return broker
        with self._lock:
            broker = self._brokers.get(key)
            if broker is None:
                broker = self._brokers[key] = self._make(account, region)
            return broker

    def _make(self, account: str, region: str) -> Broker:
        account = validation.account_id(account)
        region = validation.region_name(region)
        spec = self._store
        if spec is None:
            store: Store | str | None = None
        elif callable(spec):
            store = spec(account, region)
        else:
            store = scoped_store_url(spec, account, region)
            if store != "memory://":
                self._files.add(store)
        return Broker(region=region, account=account, clock=self._clock, store=store, **self._options)

    def scopes(self) -> list[tuple[str, str]]:
        """The (account, region) pairs that have a broker so far."""
        with self._lock:
            return list(self._brokers)

    def __iter__(self) -> Iterator[Broker]:
        with self._lock:
            return iter(list(self._brokers.values()))

    def reset(self) -> None:
        """Close every broker and forget them (the next call makes fresh ones; file stores keep
        their files)."""
        with self._lock:
            brokers = list(self._brokers.values())
            self._brokers.clear()
        for broker in brokers:
            broker.close()

    close = reset

    def wipe(self) -> None:
        """:meth:`reset`, and delete the SQLite files the scopes were kept in (with their
        journals): every resource of every scope is gone, as moto's reset does. A factory's
        stores are its own and are only closed."""
        with self._lock:
            files, self._files = self._files, set()
        self.reset()
        for url in files:
            path = url.split("://", 1)[1].removeprefix("/") if url.startswith("sqlite://") else url
            for name in (path, f"{path}-wal", f"{path}-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(name)
