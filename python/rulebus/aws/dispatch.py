"""From an HTTP request to an HTTP response: one entry for ``mock_aws`` and ``rulebus serve``.

:class:`Dispatcher` picks the service and protocol of a request, decodes it by the service's
model into a :class:`~rulebus.aws.request.Request`, calls the operation's handler on the broker
of the request's account and region, and encodes the answer (or the error) as the protocol
writes it. Routing follows what the SDKs send:

- ``X-Amz-Target: <targetPrefix>.<Operation>``: AWS JSON (SQS ``AmazonSQS``, EventBridge
  ``AWSEvents``, Kinesis ``Kinesis_20131202``), in CBOR bodies when the content type is
  ``application/x-amz-cbor-1.1``;
- otherwise the query protocol, ``Action=<Operation>`` in the form body or the query string; the
  service is the one the SigV4 credential scope names (``Authorization: AWS4-HMAC-SHA256
  Credential=<key>/<date>/<region>/<service>/aws4_request``), else the one whose API version
  ``Version`` gives, else the one an ``*.amazonaws.com`` Host names, else the query service that
  has the action.

The region is the credential scope's, else the Host's, else the dispatcher's default; the account
is the dispatcher's. Every response carries a request id (``x-amzn-RequestId``, and in the XML
body for the query protocol). Nothing a client sends yields a traceback: what the codec refuses is
an AWS-shaped error, and a handler's unexpected exception an ``InternalFailure`` (logged here).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any, NamedTuple, Union
from urllib.parse import parse_qsl, unquote

from botocore.model import OperationModel, ServiceModel, StructureShape

from rulebus._core import decode_form
from rulebus._errors import AwsError, RulebusError, StoreError
from rulebus.aws.brokers import DEFAULT_ACCOUNT, DEFAULT_REGION, Brokers
from rulebus.aws.errors import store_failure
from rulebus.aws.handlers import Handlers
from rulebus.aws.protocols import (
    EMULATED,
    JsonProtocol,
    QueryProtocol,
    Reply,
    eventstream,
    service_models,
)
from rulebus.aws.protocols.cbor import CONTENT_TYPE as CBOR_CONTENT_TYPE
from rulebus.aws.protocols.cbor import CborProtocol
from rulebus.aws.protocols.errors import (
    malformed_query_string,
    missing_action,
    not_emulated,
    unknown_operation,
)
from rulebus.aws.protocols.eventstream import EventStreamBody
from rulebus.aws.protocols.query import member_key
from rulebus.aws.request import Handler, Request
from rulebus.aws.sigv4 import SignatureVerifier
from rulebus.broker import Broker
from rulebus.stores.memory import MemoryStore
from rulebus.stores.receipts import new_message_id

__all__ = ["Dispatcher", "HttpRequest", "Route", "credential_scope"]

log = logging.getLogger(__name__)

Codec = Union[JsonProtocol, QueryProtocol]

# A form with more fields than this is refused, not parsed (the largest legitimate request, an
# SNS PublishBatch of 10 entries with 10 attributes each, has a few hundred).
MAX_FORM_FIELDS = 10_000
# How many routes a dispatcher keeps (a client sends a few kinds of request to one host).
_CALLS_KEPT = 1024

_CREDENTIAL = re.compile(r"Credential=([^/\s,]+)/\d{8}/([^/\s,]+)/([^/\s,]+)/aws4_request")
#: An access key id of twelve digits: the account the request acts in (see ``Dispatcher``).
_ACCOUNT_KEY = re.compile(r"\d{12}")
_AWS_HOST = re.compile(
    r"\A(?P<service>[a-z0-9-]+)(?:\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+))?\.amazonaws\.com(?:\.cn)?(?::\d+)?\Z"
)
_QUEUE_PATH = re.compile(r"\A/\d{12}/[^/]+\Z")
# Endpoint prefixes that are not the service's botocore name.
_HOST_SERVICES = {"queue": "sqs"}


# The internal records below are named tuples, not frozen dataclasses: as immutable, and made
# several times per request for a fifth of the cost (a frozen dataclass sets each field through
# object.__setattr__).


class HttpRequest(NamedTuple):
    """An HTTP request as the dispatcher needs it (header names in any case)."""

    method: str
    path: str
    query_string: str
    headers: Mapping[str, str]
    body: bytes
    #: The path as sent, still percent-encoded (signatures are computed over it); ``path``
    #: when not told.
    raw_path: str | None = None


class _Call(NamedTuple):
    """A decoded request, ready for its handler: how to answer, and whom to ask."""

    codec: Codec
    model: ServiceModel | None
    operation: OperationModel
    handler: Handler
    broker: Broker
    request: Request


class Route(NamedTuple):
    """Where a request goes: the service, its protocol, the operation named and the region."""

    service: str
    protocol: str
    operation: str
    region: str


def _request_id() -> str:
    """A fresh request id, laid out as a version 4 UUID as AWS's are. Not a secret: it names a
    request in logs, so it is minted as message ids are (a random prefix per process and a
    counter: unique across processes, a tenth of the cost of drawing 128 random bits)."""
    return new_message_id()


def _credential(headers: Mapping[str, str], query: str) -> re.Match[str] | None:
    """The SigV4 credential (access key id, date, region, service) of the Authorization header
    or of a presigned URL's ``X-Amz-Credential``."""
    match = _CREDENTIAL.search(headers.get("authorization", ""))
    if match is None and "X-Amz-Credential" in query:
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key == "X-Amz-Credential":
                match = _CREDENTIAL.search(f"Credential={value}")
    return match


def credential_scope(headers: Mapping[str, str], query: str = "") -> tuple[str, str] | None:
    """The (region, service) of a SigV4 credential scope, from the Authorization header or a
    presigned URL's ``X-Amz-Credential``; None when the request names none."""
    match = _credential(headers, query)
    return None if match is None else (match.group(2), match.group(3))


def access_key_id(headers: Mapping[str, str], query: str = "") -> str | None:
    """The access key id a request is signed with; None when it is not signed."""
    match = _credential(headers, query)
    return None if match is None else match.group(1)


def _host_scope(host: str) -> tuple[str | None, str | None]:
    """The (service, region) an ``*.amazonaws.com`` Host names. Cached: a client sends every
    request to one host (a Host longer than any real one is read without being kept)."""
    scope = _HOST_SCOPES.get(host)
    if scope is None:
        scope = _read_host_scope(host)
        if len(host) <= 256:
            if len(_HOST_SCOPES) >= 256:
                _HOST_SCOPES.clear()  # hosts without end: start again rather than grow
            _HOST_SCOPES[host] = scope
    return scope


_HOST_SCOPES: dict[str, tuple[str | None, str | None]] = {}


def _read_host_scope(host: str) -> tuple[str | None, str | None]:
    match = _AWS_HOST.match(host.lower())
    if match is None:
        return None, None
    service = match.group("service")
    return _HOST_SERVICES.get(service, service), match.group("region")


class Dispatcher:
    """Answers AWS requests from the brokers of ``brokers`` with the handlers of ``handlers``.

    ``account`` is the account a request acts in, unless it is signed with an access key id of
    twelve digits: then that is its account, so that one server (or mock) holds several accounts
    and a test picks one by its credentials, as with LocalStack (AWS maps real keys to their
    account; rulebus has no such keys). ``region`` is the one used when a request names none.
    With a ``verifier``, every request must carry a valid SigV4 signature by one of its keys;
    without one, signatures are not checked.
    """

    def __init__(
        self,
        brokers: Brokers | None = None,
        handlers: Handlers | None = None,
        account: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        verifier: SignatureVerifier | None = None,
    ) -> None:
        self.brokers = brokers if brokers is not None else Brokers()
        self.verifier = verifier
        self.handlers = handlers if handlers is not None else Handlers()
        self.account = account
        self.region = region
        self._codecs: dict[tuple[str, str], Codec] = {}
        # (service, protocol, operation) -> its codec, service model and operation model, for
        # the operations met so far (a bounded set: the models' operations).
        self._known: dict[tuple[str, str, str], tuple[Codec, ServiceModel | None, OperationModel]] = {}
        # (X-Amz-Target, Content-Type, Host, SigV4 credential) of a JSON request, or ("", Action,
        # Version, Host, SigV4 credential) of a query one whose credential names its service ->
        # its route, codec, service model, operation model and account (see _decode).
        self._calls: dict[
            tuple[str | None, ...],
            tuple[Route, Codec, ServiceModel | None, OperationModel, str],
        ] = {}
        self._targets = {service_models(name).target_prefix: name for name in EMULATED}
        self._versions = {service_models(name).api_version: name for name in EMULATED}

    # -- the entry ------------------------------------------------------------------------

    def __call__(self, request: HttpRequest) -> Reply:
        return self.dispatch(request)

    def dispatch(self, request: HttpRequest) -> Reply:
        """The response to ``request``, an AWS error included; never raises for what a client sent."""
        call = self._decode(request)
        if isinstance(call, Reply):
            return call
        try:
            output = call.handler(call.broker, call.request)
        except Exception as error:
            return self._failure(call.codec, call.model, error, call.request.request_id)
        return self._encode(call, output)

    async def dispatch_async(self, request: HttpRequest) -> Reply:
        """:meth:`dispatch` for an event loop: an operation that may wait (a long poll) is
        awaited in its awaiting form and holds no thread; any other runs on the loop when its
        broker's store never blocks (memory), else on a worker thread, so that a lock another
        process holds on an SQLite file never stalls the loop."""
        call = self._decode(request)
        if isinstance(call, Reply):
            return call
        try:
            waiting = self.handlers.async_handler(call.request.service, call.request.operation)
            if waiting is not None:
                output = await waiting(call.broker, call.request)
            elif isinstance(call.broker.context.store, MemoryStore):
                output = call.handler(call.broker, call.request)
            else:
                output = await asyncio.to_thread(call.handler, call.broker, call.request)
        except Exception as error:
            return self._failure(call.codec, call.model, error, call.request.request_id)
        return self._encode(call, output)

    def _decode(self, request: HttpRequest) -> _Call | Reply:
        """The call ``request`` makes, or the error reply when it makes none rulebus can answer."""
        request_id = _request_id()
        headers = {name.lower(): value for name, value in request.headers.items()}
        codec: Codec | None = None  # until the route is known (then _fallback_codec answers)
        model: ServiceModel | None = None
        try:
            credential = _credential(headers, request.query_string)
            target = headers.get("x-amz-target")
            # A request's route, account, codec and models follow from a few of its parts: looked
            # up, not worked out, for every request after a client's first of each kind. For a
            # JSON request, its target, content type, host and credential; for a query one, its
            # Action and Version, host and credential, when the credential names a service
            # rulebus emulates (else the route may depend on the rest of the form, and a service
            # it does not emulate is refused before the form is read).
            key: tuple[str | None, ...] | None = None
            form: list[tuple[str, str]] | None = None
            scope = None if credential is None else credential.group(0)
            if target is not None:
                key = (target, headers.get("content-type"), headers.get("host"), scope)
            elif credential is not None and credential.group(3) in EMULATED and _is_form(headers):
                form = _form(request, headers)
                fields = dict(form)  # (a name given twice: its last value, as the codec reads it)
                key = ("", fields.get("Action"), fields.get("Version"), headers.get("host"), scope)
            known = self._calls.get(key) if key is not None else None
            if known is None:
                route, form = self._route(request, headers, credential, form)
                models = self._known.get((route.service, route.protocol, route.operation))
                if models is None:
                    codec = self._codec(route.service, route.protocol)
                    model = service_models(route.service).model(_model_protocol(route.protocol))
                    self.authenticate(request, route.service)
                    operation = self._operation(route)
                    self._known[(route.service, route.protocol, route.operation)] = (codec, model, operation)
                else:
                    codec, model, operation = models
                    self.authenticate(request, route.service)
                account = self._account(credential)
                if key is not None:
                    if len(self._calls) >= _CALLS_KEPT:
                        self._calls.clear()  # clients without end: start again, not grow
                    self._calls[key] = (route, codec, model, operation, account)
            else:
                route, codec, model, operation, account = known
                self.authenticate(request, route.service)
            if isinstance(codec, JsonProtocol):
                params = codec.parse(operation, request.body)
            else:
                form = self._with_queue_url(route, request, headers, form or [])
                params = codec.parse_pairs(operation, form)
            handler = self.handlers.handler(route.service, route.operation)
            if handler is None:
                raise unknown_operation(route.protocol, route.service, route.operation, modeled=True)
            host = headers.get("host", "")
            call = Request(route.service, route.operation, params, route.region, account, host, request_id)
            return _Call(codec, model, operation, handler, self.brokers.get(account, route.region), call)
        except Exception as error:
            return self._failure(codec or self._fallback_codec(headers), model, error, request_id)

    def _encode(self, call: _Call, output: Mapping[str, Any]) -> Reply:
        try:
            if call.operation.has_event_stream_output:
                return self._event_stream(call, output)
            return call.codec.write(call.operation, output, call.request.request_id)
        except Exception as error:  # an answer its shape does not take: a bug, answered as one
            return self._failure(call.codec, call.model, error, call.request.request_id)

    def _event_stream(self, call: _Call, output: Mapping[str, Any]) -> Reply:
        """An answer in an event stream: the output's stream member (an event source, see
        ``EventStreamBody``) written event by event, each as its shape in the model says."""
        codec = call.codec
        assert isinstance(codec, JsonProtocol)  # (the event-stream operations are JSON ones)
        shape = call.operation.output_shape
        assert isinstance(shape, StructureShape)
        name = shape.event_stream_name
        assert name is not None
        stream = shape.members[name]
        assert isinstance(stream, StructureShape)
        # The one member of the stream's union that is an event, not an error.
        event_type = next(member for member, s in stream.members.items() if not s.metadata.get("exception"))
        event_shape = stream.members[event_type]
        assert isinstance(event_shape, StructureShape)
        rest = {key: value for key, value in output.items() if key != name}
        body = EventStreamBody(
            codec.encode(codec.write_document(shape, rest)),
            event_type,
            output[name],
            lambda event: codec.encode(codec.write_document(event_shape, event)),
            codec.content_type,
        )
        headers = {"Content-Type": eventstream.CONTENT_TYPE, "x-amzn-RequestId": call.request.request_id}
        return Reply(200, headers, b"", body)

    def _failure(self, codec: Codec, model: ServiceModel | None, error: Exception, request_id: str) -> Reply:
        """The error reply for what went wrong: AWS's own errors as they are, a failing store as
        AWS's server errors, a rulebus error that carries AWS's code under that code; anything
        else is a bug, never the client's: answered as InternalFailure, logged, not shown."""
        if isinstance(error, AwsError):
            return codec.write_error(model, error, request_id)
        if isinstance(error, StoreError):
            return codec.write_error(model, store_failure(error), request_id)
        code = getattr(error, "code", None)
        if isinstance(error, RulebusError) and isinstance(code, str):  # InvalidPatternError and kin
            return codec.write_error(model, AwsError(code, str(error)), request_id)
        return self._internal(codec, model, error, request_id)

    def account_of(self, headers: Mapping[str, str], query: str = "") -> str:
        """The account a request acts in (see the class docstring); ``headers`` lower-cased."""
        return self._account(_credential(headers, query))

    def _account(self, credential: re.Match[str] | None) -> str:
        key = None if credential is None else credential.group(1)
        return key if key is not None and _ACCOUNT_KEY.fullmatch(key) else self.account

    def authenticate(self, request: HttpRequest, service: str) -> None:
        """Nothing when signatures are not checked or ``request``'s is valid; else the AwsError
        ``service`` answers with (see :mod:`rulebus.aws.sigv4`)."""
        if self.verifier is None:
            return
        headers = {name.lower(): value for name, value in request.headers.items()}
        raw_path = request.raw_path if request.raw_path is not None else request.path
        self.verifier.verify(service, request.method, raw_path, request.query_string, headers, request.body)

    def route(self, request: HttpRequest) -> Route:
        """Where ``request`` goes (AwsError when it goes nowhere rulebus serves)."""
        headers = {name.lower(): value for name, value in request.headers.items()}
        return self._route(request, headers, _credential(headers, request.query_string))[0]

    # -- routing --------------------------------------------------------------------------

    def _route(
        self,
        request: HttpRequest,
        headers: dict[str, str],
        credential: re.Match[str] | None,
        form: list[tuple[str, str]] | None = None,
    ) -> tuple[Route, list[tuple[str, str]]]:
        """Where ``request`` goes, and its form's pairs (query protocol; ``form``, when they were
        read already); ``credential``: its SigV4 credential (see ``_credential``), read once per
        request."""
        scope_region, scope_service = (None, None) if credential is None else credential.group(2, 3)
        host_service, host_region = _host_scope(headers.get("host", ""))
        region = scope_region or host_region or self.region
        named = scope_service or host_service
        if named is not None and named not in EMULATED:
            raise not_emulated(named, EMULATED)
        target = headers.get("x-amz-target")
        if target is not None:
            prefix, _, operation = target.partition(".")
            service = self._targets.get(prefix)
            if service is None or (named is not None and named != service):
                raise unknown_operation("json", named or prefix, target, modeled=False)
            cbor = headers.get("content-type", "").startswith(CBOR_CONTENT_TYPE)
            return Route(service, "cbor" if cbor else "json", operation, region), []
        if not _is_form(headers):
            raise unknown_operation("json", named or "", "", modeled=False)
        if form is None:
            form = _form(request, headers)
        fields = dict(form)  # (a name given twice: its last value, as the codec reads it)
        action = fields.get("Action")
        if not action:
            raise missing_action()
        version = fields.get("Version")
        service = named or (self._versions.get(version) if version else None) or _by_action(action, form)
        if service is None or "query" not in service_models(service).protocols:
            raise unknown_operation("query", service or "", action, modeled=False)
        return Route(service, "query", action, region), form

    def _operation(self, route: Route) -> OperationModel:
        models = service_models(route.service)
        operation = models.operation(_model_protocol(route.protocol), route.operation)
        if operation is None:
            known = route.operation in models.operation_names
            raise unknown_operation(route.protocol, route.service, route.operation, modeled=known)
        return operation

    def _with_queue_url(
        self, route: Route, request: HttpRequest, headers: dict[str, str], form: list[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """SQS query clients may post to the queue's URL instead of sending QueueUrl: the path
        is then the queue's."""
        if route.service != "sqs" or not _QUEUE_PATH.match(request.path):
            return form
        if any(key == "QueueUrl" for key, _ in form):
            return form
        host = headers.get("host", "")
        scheme = headers.get("x-forwarded-proto") or ("https" if _AWS_HOST.match(host) else "http")
        return [*form, ("QueueUrl", f"{scheme}://{host}{request.path}")]

    # -- codecs ---------------------------------------------------------------------------

    def _codec(self, service: str, protocol: str) -> Codec:
        codec = self._codecs.get((service, protocol))
        if codec is None:
            if protocol == "cbor":
                codec = CborProtocol(service)
            elif protocol == "json":
                model = service_models(service).model("json")
                assert model is not None
                codec = JsonProtocol(service, str(model.metadata["jsonVersion"]))
            else:
                codec = QueryProtocol(service)
            self._codecs[(service, protocol)] = codec
        return codec

    def _fallback_codec(self, headers: Mapping[str, str]) -> Codec:
        """How to answer before the service is known: JSON if the client speaks it."""
        content_type = headers.get("content-type", "")
        if content_type.startswith(CBOR_CONTENT_TYPE):
            return CborProtocol("")
        if "x-amz-target" in headers or content_type.startswith("application/x-amz-json"):
            version = "1.0" if content_type.startswith("application/x-amz-json-1.0") else "1.1"
            return JsonProtocol("", version)
        return QueryProtocol("")

    def _internal(self, codec: Codec, model: ServiceModel | None, error: Exception, request_id: str) -> Reply:
        log.error("request %s failed inside rulebus", request_id, exc_info=error)
        failure = AwsError(
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
            sender_fault=False,
            status=500,
        )
        return codec.write_error(model, failure, request_id)


def _model_protocol(protocol: str) -> str:
    """The model a protocol's requests are read by (CBOR bodies carry AWS JSON's shapes)."""
    return "json" if protocol == "cbor" else protocol


def _by_action(action: str, form: list[tuple[str, str]]) -> str | None:
    """The query service that has ``action``; of two that have it (SQS and SNS both have
    AddPermission and RemovePermission), the one whose required members the form holds."""
    candidates = []
    for name in EMULATED:
        operation = service_models(name).operation("query", action)
        if operation is not None:
            candidates.append((name, operation))
    if len(candidates) > 1:
        keys = {key.split(".", 1)[0] for key, _ in form}
        for name, operation in candidates:
            shape = operation.input_shape
            if shape is None:
                continue
            required = {member_key(shape.members[member], member) for member in shape.required_members}
            if required <= keys:
                return name
    return candidates[0][0] if candidates else None


def _is_form(headers: Mapping[str, str]) -> bool:
    """Whether a request without X-Amz-Target is a query one (else it is JSON without a target)."""
    return not headers.get("content-type", "").startswith("application/x-amz-json")


def _form(request: HttpRequest, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The query string's pairs, then the form body's (AwsError when either is not form encoding)."""
    pairs = _decode_form(request.query_string.encode("utf-8", "surrogateescape"))
    if request.body:
        content_type = headers.get("content-type", "application/x-www-form-urlencoded")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            raise malformed_query_string(f"a query request's body must be form encoded, not {content_type}")
        pairs += _decode_form(request.body)
    return pairs


def _decode_form(raw: bytes) -> list[tuple[str, str]]:
    """A form's ``(name, value)`` pairs, as ``parse_qsl(text, keep_blank_values=True,
    errors="strict")`` reads them (lenient about layout, "a=1&&b=" is fine as AWS takes it;
    strict about encoding), in a third of its time: a piece without ``+`` or ``%`` is taken as
    it is. The forms SDKs send are read natively (``rulebus._core.decode_form``), which
    leaves the rest (text that is not ASCII, escapes that are not UTF-8) to this one."""
    pairs = decode_form(raw, MAX_FORM_FIELDS)
    if pairs is not None:
        return pairs
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed_query_string("it is not UTF-8 text") from None
    if not text:
        return []
    if text.count("&") >= MAX_FORM_FIELDS:
        raise malformed_query_string("Max number of fields exceeded")
    pairs = []
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "+" in piece:
            name = name.replace("+", " ")
            value = value.replace("+", " ")
        if "%" in piece:
            try:
                name = unquote(name, errors="strict")
                value = unquote(value, errors="strict")
            except UnicodeDecodeError:
                raise malformed_query_string("it is not UTF-8 text") from None
        pairs.append((name, value))
    return pairs
