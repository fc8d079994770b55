"""OpenTelemetry spans around publishes, deliveries and invocations, when the ``opentelemetry-api``
package is installed (docs/observability.md); nothing at all otherwise.

Why it exists: a program that traces its requests should see where a message went (and where it
failed) inside rulebus too, without rulebus depending on OpenTelemetry. The spans follow
OpenTelemetry's semantic conventions for messaging ('Semantic conventions for messaging spans'):
a PRODUCER span ``publish <destination>`` for a publish (SNS Publish, EventBridge PutEvents,
SQS SendMessage), a CONSUMER span ``process <destination>`` for a delivery to a subscription
or an invocation of a target, with ``messaging.system`` (``aws_sns``, ``aws.eventbridge``,
``aws_sqs``), ``messaging.destination.name`` and the operation. An exception leaving a span is
recorded on it (OpenTelemetry's default), so a failed delivery shows as an error span.

Callers test :func:`active` first, so that a hot path makes no span and no attribute dictionary
when nothing would record them: without the package, and also with the package but no tracer
provider set by the program. (The package alone is common, pulled in by other libraries; until a
provider is set, OpenTelemetry's proxy tracer makes spans that record nothing, and making them
cost a PutEvents of ten events a quarter of its time.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

__all__ = ["TRACER", "active", "consumer", "producer"]

try:
    import opentelemetry.trace as _trace
except ImportError:  # the package is optional: no spans
    _trace = None  # type: ignore[assignment,unused-ignore]

#: The tracer (named ``rulebus``), or None when ``opentelemetry-api`` is not installed. A tracer
#: got before the program sets its tracer provider follows that provider once it is set.
TRACER: Any = _trace.get_tracer("rulebus") if _trace is not None else None

#: The providers whose spans record nothing: OpenTelemetry's stand-in until one is set, and its no-op.
_SILENT: tuple[type, ...] = (
    (_trace.ProxyTracerProvider, _trace.NoOpTracerProvider) if _trace is not None else ()
)


_provider_set = False

# The variable that names a provider to load (OpenTelemetry's OTEL_PYTHON_TRACER_PROVIDER), as a
# key of ``os.environ``'s own mapping.
_PROVIDER_VARIABLE = "OTEL_PYTHON_TRACER_PROVIDER"
_ENVIRON_TYPE = type(os.environ)
_PROVIDER_KEY: Any = os.environ.encodekey(_PROVIDER_VARIABLE) if hasattr(os.environ, "encodekey") else None
_UNKNOWN = object()


def _none_set() -> bool:
    """True when the program has set no tracer provider, in code or in the environment: then
    ``get_tracer_provider()`` would return OpenTelemetry's proxy. False when one may be set.

    ``get_tracer_provider()`` answers the same, but while none is set it asks whether the
    variable is in ``os.environ`` on every call, and ``os.environ`` answers no by raising and
    catching a KeyError: about a microsecond on every publish. So where OpenTelemetry keeps its
    provider as it does today (``opentelemetry.trace._TRACER_PROVIDER``) and ``os.environ`` is
    the standard mapping, the two questions are asked directly; anywhere else this says False
    and ``get_tracer_provider()`` is asked, as before."""
    if getattr(_trace, "_TRACER_PROVIDER", _UNKNOWN) is not None:
        return False
    environ = os.environ
    data = getattr(environ, "_data", None) if type(environ) is _ENVIRON_TYPE else None
    if not isinstance(data, dict) or _PROVIDER_KEY is None:
        return False
    return _PROVIDER_KEY not in data


def active() -> bool:
    """Whether spans would be recorded: ``TRACER`` is set and the program has set a tracer
    provider (in code, or by ``OTEL_PYTHON_TRACER_PROVIDER``, which this reads as OpenTelemetry
    does). Checked on each call until one is found, so a provider set after rulebus is imported
    is followed; once found it stays (OpenTelemetry lets a program set its provider only once)."""
    global _provider_set
    if _provider_set:
        return TRACER is not None
    if TRACER is None or _none_set() or isinstance(_trace.get_tracer_provider(), _SILENT):
        return False
    _provider_set = True
    return True


def producer(system: str, destination: str, operation: str, **attributes: Any) -> Any:
    """A PRODUCER span ``publish <destination>`` (only call it when :func:`active`)."""
    return _span("publish", _trace.SpanKind.PRODUCER, system, destination, operation, attributes)


def consumer(system: str, destination: str, operation: str, **attributes: Any) -> Any:
    """A CONSUMER span ``process <destination>`` (only call it when :func:`active`)."""
    return _span("process", _trace.SpanKind.CONSUMER, system, destination, operation, attributes)


def _span(
    kind: str, span_kind: Any, system: str, destination: str, operation: str, more: Mapping[str, Any]
) -> Any:
    """The tracer's current-span context manager, with the messaging attributes."""
    return TRACER.start_as_current_span(
        f"{kind} {destination}",
        kind=span_kind,
        attributes=_attributes(system, destination, operation, kind, more),
    )


def _attributes(
    system: str, destination: str, operation: str, kind: str, more: Mapping[str, Any]
) -> dict[str, Any]:
    attributes = {
        "messaging.system": system,
        "messaging.destination.name": destination,
        "messaging.operation.name": operation,
        "messaging.operation.type": kind,
    }
    attributes.update({f"rulebus.{key}": value for key, value in more.items() if value is not None})
    return attributes
