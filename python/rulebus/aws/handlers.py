"""Which handler answers each operation: the services' own, or ones a test gives.

By default a service's handlers are the ``OPERATIONS`` of :mod:`rulebus.aws.services.<name>`
(imported on first use; a service without such a module has none yet). ``Handlers`` takes
overrides per service and operation on top of them, which is how tests put a stub in, and how a
new service or operation is added without touching the dispatcher.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping

from rulebus.aws.request import AsyncHandler, Handler, Operations

__all__ = ["Handlers"]

SERVICES_PACKAGE = "rulebus.aws.services"


def _service_module(service: str) -> object | None:
    module_name = f"{SERVICES_PACKAGE}.{service}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        # Only a missing handler module means "no handlers": a module that fails to import
        # something else is a bug to show.
        if error.name not in (module_name, SERVICES_PACKAGE):
            raise
        return None
    return module


class Handlers:
    """The handler of each (service, operation).

    ``overrides`` maps a service to operations that replace or add to its module's;
    ``load_services`` False uses the overrides alone (a test that wants no real handler).
    """

    def __init__(self, overrides: Mapping[str, Operations] | None = None, load_services: bool = True) -> None:
        self._overrides = {service: dict(operations) for service, operations in (overrides or {}).items()}
        self._load_services = load_services
        self._loaded: dict[str, Operations] = {}
        self._loaded_async: dict[str, Mapping[str, AsyncHandler]] = {}
        self._lock = threading.Lock()

    def handler(self, service: str, operation: str) -> Handler | None:
        """The handler of ``service``'s ``operation``, or None when rulebus has none."""
        override = self._overrides.get(service)
        if override is not None and operation in override:
            return override[operation]
        return self._module_operations(service).get(operation)

    def async_handler(self, service: str, operation: str) -> AsyncHandler | None:
        """The awaiting form of ``service``'s ``operation`` (its module's ``ASYNC_OPERATIONS``),
        for an event loop; None when the operation has none (it never waits) or when a test
        overrode its synchronous handler (which then answers)."""
        override = self._overrides.get(service)
        if not self._load_services or (override is not None and operation in override):
            return None
        handlers = self._loaded_async.get(service)
        if handlers is None:
            module = _service_module(service)
            handlers = self._loaded_async[service] = getattr(module, "ASYNC_OPERATIONS", {})
        return handlers.get(operation)

    def operations(self, service: str) -> frozenset[str]:
        """The operations of ``service`` that have a handler."""
        return frozenset(self._module_operations(service)) | frozenset(self._overrides.get(service, {}))

    def register(self, service: str, operation: str, handler: Handler) -> None:
        """Answer ``service``'s ``operation`` with ``handler`` from now on."""
        with self._lock:
            self._overrides.setdefault(service, {})[operation] = handler

    def _module_operations(self, service: str) -> Operations:
        if not self._load_services:
            return {}
        operations = self._loaded.get(service)
        if operations is None:
            with self._lock:
                operations = self._loaded.get(service)
                if operations is None:
                    module = _service_module(service)
                    operations = self._loaded[service] = getattr(module, "OPERATIONS", {})
        return operations
