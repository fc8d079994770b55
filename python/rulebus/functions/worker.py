"""``rulebus worker module:broker``: a program's functions and event source mappings, run in a
process of their own against the program's store, an SQLite file or Redis (docs/functions.md,
"Running functions in a worker process").

The worker imports the module (brokers made while it does start no pool of their own), takes the
:class:`~rulebus.Broker` named after the colon, and runs its pool until SIGTERM or SIGINT. Then it
stops gracefully: no new batch is taken, the batches taken finish within the grace period, and
those still running after it are returned unsettled (a queue's messages visible again at once, a
stream's records after the last checkpoint), never lost. A second signal ends the wait at once.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from rulebus.functions.runtime import hold_pools

__all__ = ["WorkerError", "load_broker", "run_worker"]

_log = logging.getLogger("rulebus.worker")

#: Seconds the batches taken are given to finish after SIGTERM, by default.
DEFAULT_GRACE_PERIOD = 30.0


class WorkerError(Exception):
    """What the worker cannot start with (said to the user as it is)."""


def load_broker(target: str) -> Any:
    """The broker ``module:attribute`` names (``attribute`` may be dotted), imported with the
    pools held; WorkerError with what is wrong otherwise."""
    from rulebus.broker import Broker
    from rulebus.stores import MemoryStore

    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise WorkerError(f'"{target}": give the broker as MODULE:NAME, for example "app:broker"')
    hold_pools()
    # As uvicorn and python -m do: modules beside where the worker is started are importable.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise WorkerError(f'Could not import module "{module_name}" ({error}).') from None
        raise
    found: Any = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise WorkerError(f'Attribute "{attribute}" not found in module "{module_name}".') from None
    if not isinstance(found, Broker):
        raise WorkerError(f'"{target}" is a {type(found).__name__}, not a rulebus.Broker.')
    if isinstance(found.context.store, MemoryStore):
        raise WorkerError(
            f'The broker "{target}" keeps its state in memory, which no other process can see: a '
            "worker would poll queues and streams no program sends to. Give it an SQLite file "
            '(rulebus.Broker("app.db")) or a Redis server (store="redis://..."), which the program '
            "and its workers share."
        )
    return found


def run_worker(
    target: str,
    *,
    workers: int | None = None,
    pool: str | None = None,
    grace_period: float = DEFAULT_GRACE_PERIOD,
    ready: threading.Event | None = None,
) -> int:
    """Run the broker's functions until SIGTERM or SIGINT, then stop gracefully (see the module
    docstring); the exit code (0). Must be called in the main thread (signal handlers)."""
    broker = load_broker(target)
    runtime = broker.function_runtime
    stop = threading.Event()
    hurry = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        (hurry if stop.is_set() else stop).set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        runtime.serve(workers=workers, pool=pool)
        _log.info(
            "rulebus worker: %d functions, %d event source mappings of %s (%s)",
            len(broker.functions()),
            len(broker.list_event_source_mappings()),
            target,
            runtime.pool,
        )
        if ready is not None:
            ready.set()
        while not stop.wait(0.5):
            pass
        _log.info("rulebus worker: stopping; the batches taken have %.1f seconds to finish", grace_period)
        runtime.stop_polling()
        finished = False
        waited = 0.0
        while not hurry.is_set() and waited < grace_period:
            step = min(0.2, grace_period - waited)
            if runtime.wait_for_batches(step):
                finished = True
                break
            waited += step
        if finished:
            broker.close()
            _log.info("rulebus worker: stopped, every batch taken finished")
            return 0
        returned = runtime.return_batches()
        _log.warning(
            "rulebus worker: stopped past the grace period; %d batches were returned unsettled",
            returned,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # Handlers still running in threads cannot be stopped: leave without waiting for them (what
    # they had taken is returned; the store's own transactions make a half-done step harmless).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
