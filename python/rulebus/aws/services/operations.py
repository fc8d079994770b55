"""What every service's handlers share: the table they register in, the one place where a
service's non-AWS errors become AWS's, required parameters, and NextToken pagination.

A handler is ``(broker, request) -> dict`` (see :mod:`rulebus.aws.request`). Each service module
makes one :class:`OperationTable` with its error translation and registers its handlers with
``@table("OperationName")``; the table's ``handlers`` is the service's ``OPERATIONS``.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from rulebus import validation
from rulebus._errors import AwsError, RulebusError, StoreError
from rulebus.aws.errors import store_failure
from rulebus.aws.request import AsyncHandler

if TYPE_CHECKING:
    from rulebus.aws.request import Handler, Request
    from rulebus.broker import Broker

__all__ = ["AsyncHandler", "OperationTable", "Translate", "page", "required"]

T = TypeVar("T")
F = TypeVar("F", bound="Handler")

#: A service's mapping of a rulebus error that is not an :class:`AwsError` (or of one that needs
#: the wire's code or status), raised under a request, to the AwsError AWS would answer with;
#: None: leave it as it is.
Translate = Callable[[RulebusError, "Request"], "AwsError | None"]


class OperationTable:
    """One service's operations, by the model's operation name. Registering wraps a handler so
    that the errors it raises pass through the service's ``translate`` (then
    :func:`store_failure`): the one place where rulebus's errors become the service's."""

    def __init__(self, translate: Translate) -> None:
        self._translate = translate
        self._handlers: dict[str, Handler] = {}
        self._async_handlers: dict[str, AsyncHandler] = {}
        #: What the service module exports as ``OPERATIONS`` (read-only).
        self.handlers: Mapping[str, Handler] = MappingProxyType(self._handlers)
        #: What it exports as ``ASYNC_OPERATIONS``: the operations that may wait (long polls),
        #: each also in ``handlers``.
        self.async_handlers: Mapping[str, AsyncHandler] = MappingProxyType(self._async_handlers)

    def __call__(self, name: str) -> Callable[[F], F]:
        """Register the decorated handler as ``name``; the function itself stays as it is (its
        name, signature and errors untranslated, to call directly)."""

        def register(handler: F) -> F:
            self._handlers[name] = self._translated(handler)
            return handler

        return register

    def add_async(self, name: str, handler: AsyncHandler) -> None:
        """Register ``handler``, a coroutine function, as the awaiting form of ``name`` (called,
        not used as a decorator: the function stays a plain ``async def``)."""
        self._async_handlers[name] = self._translated_async(handler)

    def _aws_error(self, error: RulebusError, request: Request) -> AwsError | None:
        """What ``error`` becomes on the wire; None: raise it as it is."""
        translated = self._translate(error, request)
        if translated is None and isinstance(error, StoreError):
            translated = store_failure(error)
        return None if translated is error else translated

    def _translated(self, handler: Handler) -> Handler:
        def handle(broker: Broker, request: Request) -> Mapping[str, Any]:
            try:
                return handler(broker, request)
            except RulebusError as error:
                translated = self._aws_error(error, request)
                if translated is None:
                    raise
                raise translated from error

        return functools.wraps(handler)(handle)

    def _translated_async(self, handler: AsyncHandler) -> AsyncHandler:
        async def handle(broker: Broker, request: Request) -> Mapping[str, Any]:
            try:
                return await handler(broker, request)
            except RulebusError as error:
                translated = self._aws_error(error, request)
                if translated is None:
                    raise
                raise translated from error

        return functools.wraps(handler)(handle)


def required(params: Mapping[str, Any], name: str, wording: validation.Wording) -> Any:
    """A required member of the request, or the service's missing-parameter error (the codec
    checks the model's required members too; a handler called directly meets this one)."""
    value = params.get(name)
    if value is None:
        raise wording.missing(name)
    return value


_TOKEN_PREFIX = "rulebus:"


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode("ascii")


def _offset(token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not text.startswith(_TOKEN_PREFIX) or not text[len(_TOKEN_PREFIX) :].isdigit():
        return None
    return int(text[len(_TOKEN_PREFIX) :])


def page(
    items: Sequence[T],
    next_token: str | None,
    limit: int | None,
    bad_token: Callable[[], AwsError],
) -> tuple[Sequence[T], str | None]:
    """One page of ``items``: from where ``next_token`` left off, at most ``limit`` (None: to the
    end), and the NextToken of the page after (None on the last). Tokens are opaque to clients;
    one that rulebus did not issue (or past the end) is ``bad_token()``."""
    start = 0
    if next_token is not None:
        offset = _offset(next_token)
        if offset is None or offset > len(items):
            raise bad_token()
        start = offset
    end = len(items) if limit is None else min(len(items), start + limit)
    return items[start:end], (_token(end) if end < len(items) else None)
