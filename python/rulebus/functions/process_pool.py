"""Handlers run in child processes (``Broker(function_pool="processes")``, ``rulebus worker
--pool processes``): the isolation Lambda gives each invocation that threads cannot.

- A handler that runs past its function's timeout is really stopped: its child is killed and
  replaced, and the invocation fails as Lambda's does ("Task timed out after 3.00 seconds").
- A child that dies (``os._exit``, a segmentation fault, the out-of-memory killer) fails only
  the invocation it was running (``Runtime.ExitError``, "Runtime exited with error: ...").

Children are started with the ``spawn`` method (the same on every platform, and safe beside the
threads of the broker), at most one per worker, when first needed. A handler goes to its child
by reference, as :mod:`pickle` sends a function: its module and qualified name, imported in the
child. So it must be a def at the top level of a module; the child imports that module (and with
it whatever the module does at import: a broker made there starts no pool of its own in a child).
Events and results cross as pickles.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from rulebus._errors import RulebusError

if TYPE_CHECKING:
    from rulebus.functions.context import LambdaContext
    from rulebus.functions.function import Function, Invocation

__all__ = ["POOLS", "HandlerNotImportable", "ProcessPool", "in_function_child"]

_log = logging.getLogger("rulebus.functions")

#: Where handlers run: the values of ``function_pool`` and ``rulebus worker --pool``.
POOLS = ("threads", "processes")

#: The name every child carries, from before it imports anything of the user's.
_CHILD_NAME = "rulebus-function-child"

#: What a child answers once it has the handler (its module imported) and starts running it:
#: the timeout counts from there, as Lambda's counts from after its init phase.
_STARTED = "started"

#: Seconds a child is given to leave when the pool closes, before it is killed.
_CLOSE_GRACE = 5.0

#: How Go (Lambda's runtime interface) names the signals that end a runtime most often.
_SIGNAL_NAMES = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGKILL: "killed",
    signal.SIGABRT: "aborted",
    signal.SIGTERM: "terminated",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
}


class HandlerNotImportable(RulebusError, ValueError):
    """A handler a process pool cannot send to a child (a lambda, a closure, a bound method of a
    local object, a def inside a def)."""


def in_function_child() -> bool:
    """Whether this process is a process pool's child (its brokers start no pool of their own)."""
    return multiprocessing.current_process().name.startswith(_CHILD_NAME)


def handler_reference(function: Function) -> bytes:
    """The handler of ``function`` as a child receives it; HandlerNotImportable when it cannot
    be sent by module path."""
    handler = function.handler
    try:
        return pickle.dumps(handler)
    except Exception as error:  # pickle raises PicklingError, AttributeError or TypeError
        where = f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"
        raise HandlerNotImportable(
            f"function {function.name}: its handler {where} cannot run in a process pool: a handler "
            "there must be importable by module path (a def at the top level of a module, not a "
            f"lambda, a closure or a method of a local object) ({error})"
        ) from None


def _exit_with(parent: BaseProcess) -> None:
    """End this child when its parent ends, even killed (SIGKILL): a batch the parent took comes
    back to its queue, and no orphan may settle it twice."""
    parent.join()
    os._exit(1)


def _child_main(connection: Connection) -> None:
    """A child's loop: receive (handler, event, context), run it, answer; None ends it."""
    # Ctrl-C reaches the whole process group: the parent decides what stops, not the child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), name="rulebus-parent-watch", daemon=True).start()
    handlers: dict[bytes, Any] = {}
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        reference, event, context = request
        try:
            handler = handlers.get(reference)
            if handler is None:
                handler = handlers[reference] = pickle.loads(reference)
        except Exception as error:
            connection.send(("Runtime.ImportModuleError", f"Unable to import module: {error!r}"))
            continue
        connection.send(_STARTED)
        try:
            result = handler(event, context)
        except Exception as error:  # the handler's failure is the invocation's outcome
            connection.send((type(error).__name__, str(error)))
            continue
        try:
            connection.send(("", result))
        except Exception as error:
            connection.send(("Runtime.MarshalError", f"Unable to marshal response: {error}"))


class _Child:
    def __init__(self, process: BaseProcess, connection: Connection) -> None:
        self.process = process
        self.connection = connection

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()


def _exit_description(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = _SIGNAL_NAMES.get(signal.Signals(-exitcode), f"signal {-exitcode}")
        except ValueError:
            name = f"signal {-exitcode}"
        return f"signal: {name}"
    return f"exit status {exitcode}"


class ProcessPool:
    """Up to ``size`` children, each running one invocation at a time (see the module
    docstring). :meth:`invoke` is called from the runtime's worker threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._idle: queue.SimpleQueue[_Child] = queue.SimpleQueue()
        self._busy: set[_Child] = set()
        self._started = 0  # children alive (idle or busy)
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    def resize(self, size: int) -> None:
        """Change how many children may run at once (before any invocation)."""
        with self._lock:
            if self._started:
                raise RuntimeError("the process pool is running: it cannot be resized")
            self._size = size
            self._slots = threading.BoundedSemaphore(size)

    def _take(self) -> _Child:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        parent, child = self._context.Pipe()
        with self._lock:
            self._started += 1
            number = self._started
        process = self._context.Process(
            target=_child_main, args=(child,), name=f"{_CHILD_NAME}-{number}", daemon=True
        )
        process.start()
        child.close()
        return _Child(process, parent)

    def invoke(self, function: Function, event: Any, context: LambdaContext) -> Invocation:
        """Run ``function``'s handler on ``event`` in a child: its result, its error, a timeout
        (the child is killed) or the child's death."""
        from rulebus.functions.function import Invocation, timed_out

        request_id = context.aws_request_id
        reference = handler_reference(function)
        timeout = float(function.timeout or 0)
        with self._slots:
            child = self._take()
            with self._lock:
                self._busy.add(child)
            try:
                try:
                    child.connection.send((reference, event, context))
                    answer = child.connection.recv()  # (importing the handler is not timed)
                    answered = True
                    if answer == _STARTED:
                        answered = child.connection.poll(timeout)
                        answer = child.connection.recv() if answered else (None, None)
                    error_type, value = answer
                except (EOFError, OSError):
                    child.process.join()
                    description = _exit_description(child.process.exitcode)
                    child.connection.close()
                    self._forget(child)
                    _log.warning(
                        "function %s: its process died (%s), request %s",
                        function.name,
                        description,
                        request_id,
                    )
                    message = f"RequestId: {request_id} Error: Runtime exited with error: {description}"
                    return Invocation(error=("Runtime.ExitError", message), request_id=request_id)
                if not answered:
                    child.kill()
                    self._forget(child)
                    _log.warning(
                        "function %s timed out (request %s): its process was stopped",
                        function.name,
                        request_id,
                    )
                    return timed_out(function, request_id)
            finally:
                with self._lock:
                    self._busy.discard(child)
            self._idle.put(child)
        if error_type:
            _log.warning(
                "function %s failed (request %s): %s: %s", function.name, request_id, error_type, value
            )
            return Invocation(error=(error_type, str(value)), request_id=request_id)
        return Invocation(result=value, request_id=request_id)

    def _forget(self, child: _Child) -> None:
        with self._lock:
            self._started -= 1
            self._busy.discard(child)

    def kill_busy(self) -> int:
        """Kill the children running an invocation now (their invocations fail as crashed);
        how many."""
        with self._lock:
            busy = list(self._busy)
        for child in busy:
            child.process.kill()
        return len(busy)

    def close(self) -> None:
        """End the idle children (they finish nothing: they are idle)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        children: list[_Child] = []
        while True:
            try:
                children.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for child in children:
            with contextlib.suppress(OSError):  # (a child that died meanwhile)
                child.connection.send(None)
        deadline = time.monotonic() + _CLOSE_GRACE
        for child in children:
            child.process.join(max(0.0, deadline - time.monotonic()))
            if child.process.is_alive():
                child.process.kill()
                child.process.join()
            child.connection.close()
