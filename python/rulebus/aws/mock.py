"""``rulebus.mock_aws``: boto3 and botocore clients answered in process by rulebus brokers.

While a mock is active, every request a botocore client would send is answered by a
:class:`~rulebus.aws.dispatch.Dispatcher` instead: through botocore's own ``before-send`` event,
whose handler returns an :class:`botocore.awsrequest.AWSResponse`, so the request is serialised,
signed, parsed and raised exactly as it would be against AWS, with no socket. Each activation
starts with empty brokers (one per account and region, as AWS scopes resources).

How every client is reached:

- sessions made while a mock is active get the handler from botocore's built-in handler list
  (``botocore.handlers.BUILTIN_HANDLERS``), and boto3's default session, if it already exists,
  gets it registered when the mock starts;
- a client made before that (its events were copied from its session when it was made, so no
  handler can be added to it from outside) still cannot reach the network: its endpoint's send is
  answered by the same dispatcher while a mock is active.

A request for a service rulebus does not emulate raises :class:`ServiceNotEmulated` naming it.
When no credentials are configured, fake ones are set in the environment for the duration (and a
default region when none is set), and the environment is restored afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload
from urllib.parse import urlsplit

from rulebus.aws.brokers import DEFAULT_ACCOUNT, DEFAULT_REGION, Brokers, StoreSpec
from rulebus.aws.errors import ServiceNotEmulated
from rulebus.aws.handlers import Handlers
from rulebus.stores.records import Clock

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

    from rulebus.aws.dispatch import Dispatcher, HttpRequest
    from rulebus.aws.protocols.base import StreamedBody
    from rulebus.broker import Broker

__all__ = ["MockAws", "ServiceNotEmulated", "mock_aws"]

T = TypeVar("T")

#: The fake credentials set when none are configured (moto's tests set the same).
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE")
_HANDLER_ID = "rulebus-mock-aws"
_SPAN_ATTRIBUTE = "_rulebus_mock_aws"  # on a test instance: the mock of its setup_method
_ROUTING_HEADERS = ("Host", "X-Amz-Target", "Content-Type", "Authorization")
# botocore's service ids (as ``before-send.<id>.<Operation>`` names them) -> service names.
_SERVICE_IDS = {"sqs": "sqs", "sns": "sns", "eventbridge": "events", "kinesis": "kinesis", "sts": "sts"}

_lock = threading.RLock()
_active: list[MockAws] = []  # innermost last
_original_send: Callable[..., Any] | None = None
# The response each request got: botocore calls every ``before-send`` handler a session holds
# (``emit``, not ``emit_until_response``), and a session can hold this one twice (from the
# built-in list when it was made under one mock, and registered again by a later mock). A retry
# is a new request object, so one answer per object never swallows a retry.
_answered: weakref.WeakKeyDictionary[Any, AWSResponse] = weakref.WeakKeyDictionary()


class MockAws:
    """One in-process AWS: a context manager and a decorator (see :func:`mock_aws`)."""

    def __init__(
        self,
        store: StoreSpec = None,
        clock: Clock | None = None,
        account: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        handlers: Handlers | None = None,
        **broker_options: Any,
    ) -> None:
        self._settings: dict[str, Any] = dict(
            store=store, clock=clock, account=account, region=region, handlers=handlers, **broker_options
        )
        self.account = account
        self.region = region
        self._dispatcher: Dispatcher | None = None
        self._saved_environment: dict[str, str | None] = {}

    # -- state ---------------------------------------------------------------------------------

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            raise RuntimeError("this mock_aws is not active: use it in a with block or as a decorator")
        return self._dispatcher

    @property
    def brokers(self) -> Brokers:
        """The brokers behind the mock, by account and region."""
        return self.dispatcher.brokers

    def broker(self, region: str | None = None, account: str | None = None) -> Broker:
        """The broker that answers requests for ``region`` (default: the mock's) and ``account``."""
        return self.brokers.get(account or self.account, region or self.region)

    # -- activation ----------------------------------------------------------------------------

    def start(self) -> None:
        """Answer every botocore request from fresh brokers until :meth:`stop`."""
        from rulebus.aws.dispatch import Dispatcher

        settings = dict(self._settings)
        handlers = settings.pop("handlers")
        account = settings.pop("account")
        region = settings.pop("region")
        with _lock:
            if self._dispatcher is not None:
                raise RuntimeError("this mock_aws is already active")
            self._dispatcher = Dispatcher(Brokers(**settings), handlers, account=account, region=region)
            self._saved_environment = _fake_environment(self.region)
            _active.append(self)
            if len(_active) == 1:
                _install()

    def stop(self) -> None:
        """Stop answering; the brokers are closed and the environment restored."""
        with _lock:
            if self._dispatcher is None:
                return
            _active.remove(self)
            if not _active:
                _uninstall()
            _restore_environment(self._saved_environment)
            dispatcher, self._dispatcher = self._dispatcher, None
        dispatcher.brokers.reset()

    def __enter__(self) -> MockAws:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- decorating ----------------------------------------------------------------------------

    def _fresh(self) -> MockAws:
        return MockAws(**self._settings)

    def __call__(self, target: T) -> T:
        """``target`` (a function, a coroutine function, or a class whose test methods are
        wrapped; a pytest-style class's setup_method, test and teardown_method share one) run inside
        a fresh mock each call, or inside the active mock when one is active."""
        if inspect.isclass(target):
            return cast(T, self._decorate_class(target))
        function = cast(Callable[..., Any], target)
        if not callable(function):
            raise TypeError(f"mock_aws decorates functions and classes, not {type(target).__name__}")
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self._joined():
                    return await function(*args, **kwargs)

            return cast(T, run_async)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self._joined():
                return function(*args, **kwargs)

        return cast(T, run)

    def _joined(self) -> contextlib.AbstractContextManager[object]:
        """The mock a decorated call runs in: the active one if there is one (a decorated helper
        called from a decorated test sees the test's queues, as with moto), else a fresh one."""
        return contextlib.nullcontext() if _current() is not None else self._fresh()

    def _decorate_class(self, cls: type) -> type:
        import unittest

        if issubclass(cls, unittest.TestCase):
            # One mock per test, from setUp to the last cleanup, so that setUp's resources are
            # there in the test and in tearDown.
            original_set_up = cls.setUp
            fresh = self._fresh

            def set_up(test: unittest.TestCase) -> None:
                mock = fresh()
                mock.start()
                test.addCleanup(mock.stop)
                original_set_up(test)

            setattr(cls, "setUp", set_up)  # noqa: B010 (mypy refuses assigning a method)
            return cls
        for name, member in list(vars(cls).items()):
            if name.startswith("test") and inspect.isfunction(member):
                setattr(cls, name, self(member))
        self._span_pytest_methods(cls)
        return cls

    def _span_pytest_methods(self, cls: type) -> None:
        """A pytest-style class with ``setup_method`` or ``teardown_method``: one mock per test
        from setup_method to the end of teardown_method (the test joins it), so that what
        setup_method creates is there in the test, and neither ever reaches the network."""
        setup = getattr(cls, "setup_method", None)
        teardown = getattr(cls, "teardown_method", None)
        if setup is None and teardown is None:
            return
        fresh = self._fresh

        # pytest passes the test method to these only when they take it: so do ours.
        def setup_method(instance: object, method: object = None) -> None:
            mock = fresh()
            mock.start()
            setattr(instance, _SPAN_ATTRIBUTE, mock)
            if setup is not None:
                try:
                    _call_xunit(setup, instance, method)
                except BaseException:
                    _stop_span(instance)  # pytest runs no teardown_method after a failed setup
                    raise

        def teardown_method(instance: object, method: object = None) -> None:
            try:
                if teardown is not None:
                    _call_xunit(teardown, instance, method)
            finally:
                _stop_span(instance)

        setattr(cls, "setup_method", setup_method)  # noqa: B010 (mypy refuses assigning a method)
        setattr(cls, "teardown_method", teardown_method)  # noqa: B010


def _call_xunit(function: Callable[..., Any], instance: object, method: object) -> None:
    """``function(instance, method)``, or ``function(instance)`` when it takes no method."""
    try:
        inspect.signature(function).bind(instance, method)
    except TypeError:
        function(instance)
    else:
        function(instance, method)


def _stop_span(instance: object) -> None:
    mock = getattr(instance, _SPAN_ATTRIBUTE, None)
    if isinstance(mock, MockAws):
        delattr(instance, _SPAN_ATTRIBUTE)
        mock.stop()


@overload
def mock_aws(target: T, /) -> T: ...


@overload
def mock_aws(
    target: None = None,
    /,
    *,
    store: StoreSpec = None,
    clock: Clock | None = None,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
    handlers: Handlers | None = None,
    **broker_options: Any,
) -> MockAws: ...


def mock_aws(
    target: Any = None,
    /,
    *,
    store: StoreSpec = None,
    clock: Clock | None = None,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
    handlers: Handlers | None = None,
    **broker_options: Any,
) -> Any:
    """boto3's SQS, SNS, EventBridge, Kinesis and STS clients answered by rulebus in process.

    As a context manager (``with mock_aws() as aws:``), a decorator with or without arguments
    (``@mock_aws``, ``@mock_aws(store="sqlite:///t.db")``) of functions, coroutine functions and
    test classes. ``store`` is where each account and region keeps its state (see
    :class:`~rulebus.aws.brokers.Brokers`), ``clock`` the brokers' clock (a fake clock moves
    time, delays included; one with its own ``sleep`` also measures long polls, so an empty
    ``WaitTimeSeconds=20`` ends when that clock has moved 20 s), ``account`` the account
    requests act in, ``region`` the default region, ``handlers`` the operations' handlers
    (default: rulebus's own); ``broker_options`` go to every :class:`~rulebus.Broker`.
    """
    mock = MockAws(
        store=store, clock=clock, account=account, region=region, handlers=handlers, **broker_options
    )
    return mock if target is None else mock(target)


# -- the hooks ------------------------------------------------------------------------------------


def _current() -> MockAws | None:
    return _active[-1] if _active else None


def _before_send(request: AWSPreparedRequest, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """botocore's ``before-send`` handler: the response, when a mock is active."""
    mock = _current()
    if mock is None:
        return None
    parts = event_name.split(".")
    service_id = parts[1] if len(parts) > 2 else None
    if service_id is not None and service_id not in _SERVICE_IDS:
        from rulebus.aws.protocols import EMULATED

        raise ServiceNotEmulated(service_id, EMULATED)
    with _lock:
        answered = _answered.get(request)
    if answered is not None:
        return answered
    response = _answer(mock, request, routed=True)
    with _lock:
        _answered[request] = response
    return response


def _send(endpoint: Any, request: AWSPreparedRequest) -> AWSResponse:
    """The endpoint's send while a mock is active (a client whose events predate the mock)."""
    mock = _current()
    if mock is None:
        assert _original_send is not None
        response: AWSResponse = _original_send(endpoint, request)
        return response
    return _answer(mock, request, routed=False)


def _answer(mock: MockAws, request: AWSPreparedRequest, routed: bool) -> AWSResponse:
    """The dispatcher's response to ``request``; ``routed``: the service is known to be one rulebus
    emulates (else a request for another service raises ServiceNotEmulated here)."""
    AWSResponse, HttpRequest = _wire_classes()
    url = urlsplit(request.url)
    headers = {"Host": url.netloc}
    # Only what the dispatcher reads: botocore's headers are an email.message, slow to walk whole.
    for name in _ROUTING_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            headers[name] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    http = HttpRequest(request.method, url.path or "/", url.query, headers, _body(request.body))
    dispatcher = mock.dispatcher
    if not routed:
        route_error = _not_emulated(dispatcher, http)
        if route_error is not None:
            raise route_error
    reply = dispatcher.dispatch(http)
    raw = _RawResponse(reply.body) if reply.stream is None else _StreamedResponse(reply.stream)
    return AWSResponse(request.url, reply.status, cast(Any, reply.headers), raw)


_classes: tuple[type[AWSResponse], type[HttpRequest]] | None = None


def _wire_classes() -> tuple[type[AWSResponse], type[HttpRequest]]:
    """The classes ``_answer`` makes, imported once: not when rulebus is imported (botocore is
    then left unloaded), and not on every request (an import statement in a function costs
    about 0.6 µs each time it runs, even when the module is loaded)."""
    global _classes
    if _classes is None:
        from botocore.awsrequest import AWSResponse

        from rulebus.aws.dispatch import HttpRequest

        _classes = (AWSResponse, HttpRequest)
    return _classes


def _not_emulated(dispatcher: Dispatcher, http: HttpRequest) -> ServiceNotEmulated | None:
    try:
        dispatcher.route(http)
    except ServiceNotEmulated as error:
        return error
    except Exception:  # any other routing error is answered by dispatch as AWS would
        return None
    return None


def _body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    read = getattr(body, "read", None)
    if read is None:
        return bytes(body)
    position = body.tell() if hasattr(body, "tell") else None
    data = read()
    if position is not None and hasattr(body, "seek"):
        body.seek(position)  # a retry reads it again
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


class _RawResponse(io.BytesIO):
    """What botocore reads a response body from (``stream()``, as urllib3's response has)."""

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        chunk = self.read()
        if chunk:
            yield chunk


class _StreamedResponse:
    """A body made as botocore reads it (an event stream: SubscribeToShard's events come as
    the caller iterates them, each perhaps waiting for records)."""

    def __init__(self, body: StreamedBody) -> None:
        self._body = body

    def stream(self, amt: int | None = None, decode_content: bool | None = None) -> Iterator[bytes]:
        yield from self._body

    def read(self, amt: int | None = None) -> bytes:
        return b"".join(self._body)

    def close(self) -> None:
        self._body.close()


def _install() -> None:
    global _original_send
    import sys

    from botocore import handlers
    from botocore.endpoint import Endpoint

    if ("before-send", _before_send) not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(("before-send", _before_send))
    boto3 = sys.modules.get("boto3")
    default_session = getattr(boto3, "DEFAULT_SESSION", None)
    if default_session is not None:
        default_session.events.register("before-send", _before_send, unique_id=_HANDLER_ID)
    if _original_send is None:
        # botocore's stubs do not declare the private _send: reached by name.
        _original_send = getattr(Endpoint, "_send")  # noqa: B009
        setattr(Endpoint, "_send", _send)  # noqa: B010


def _uninstall() -> None:
    global _original_send
    from botocore import handlers
    from botocore.endpoint import Endpoint

    if ("before-send", _before_send) in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.remove(("before-send", _before_send))
    if _original_send is not None:
        setattr(Endpoint, "_send", _original_send)  # noqa: B010
        _original_send = None


def _fake_environment(region: str) -> dict[str, str | None]:
    """Set fake credentials (and a region) where none are configured; what to restore."""
    saved: dict[str, str | None] = {}
    environment = os.environ
    if not any(environment.get(name) for name in _CREDENTIAL_VARIABLES):
        for name, value in FAKE_CREDENTIALS.items():
            saved[name] = environment.get(name)
            environment[name] = value
    if not environment.get("AWS_DEFAULT_REGION"):  # botocore's region variable (not AWS_REGION)
        saved["AWS_DEFAULT_REGION"] = environment.get("AWS_DEFAULT_REGION")
        environment["AWS_DEFAULT_REGION"] = region
    return saved


def _restore_environment(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
