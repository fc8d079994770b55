"""OpenTelemetry spans around publishes, deliveries and invocations (rulebus.tracing), when the
``opentelemetry-api`` package is installed; without it (or with ``TRACER`` None) nothing is made.
The span tests need ``opentelemetry-sdk`` too, for its in-memory exporter, and are skipped
without it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import pytest
from rulebus import Broker, tracing

sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="opentelemetry-sdk is not installed")


@pytest.fixture(scope="module")
def exporter_for_module() -> Any:
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # once per process: rulebus's tracer follows it
    return exporter


@pytest.fixture
def spans(exporter_for_module: Any) -> Iterator[Callable[[], list[Any]]]:
    if tracing.TRACER is None:
        pytest.skip("opentelemetry-api is not importable")
    exporter_for_module.clear()
    yield exporter_for_module.get_finished_spans
    exporter_for_module.clear()


@pytest.fixture
def broker(make_broker: Callable[..., Broker]) -> Broker:
    return make_broker(background_retries=False)


def test_publish_and_delivery_spans(broker: Broker, spans: Callable[[], list[Any]]) -> None:
    from opentelemetry.trace import SpanKind, StatusCode

    topic = broker.topic("alerts")
    received: list[Any] = []

    def broken(notification: Any) -> None:
        raise ValueError("no")

    good = topic.subscribe(received.append)
    bad = topic.subscribe(broken)
    message_id = topic.publish("hello").message_id
    by_name: dict[str, list[Any]] = {}
    for span in spans():
        by_name.setdefault(span.name, []).append(span)
    (publish,) = by_name["publish alerts"]
    assert publish.kind is SpanKind.PRODUCER
    assert publish.attributes["messaging.system"] == "aws_sns"
    assert publish.attributes["messaging.operation.type"] == "publish"
    deliveries = by_name[f"process {topic.arn}"]
    assert {span.attributes["rulebus.subscription"] for span in deliveries} == {
        good.subscription_arn,
        bad.subscription_arn,
    }
    for span in deliveries:
        assert span.kind is SpanKind.CONSUMER
        assert span.parent.span_id == publish.context.span_id  # inside the publish
        assert span.attributes["rulebus.message_id"] == message_id
    (failed,) = [s for s in deliveries if s.attributes["rulebus.subscription"] == bad.subscription_arn]
    assert failed.status.status_code is StatusCode.ERROR
    assert len(received) == 1


def test_put_events_and_invocation_spans(broker: Broker, spans: Callable[[], list[Any]]) -> None:
    from opentelemetry.trace import SpanKind

    bus = broker.event_bus("shop")
    bus.put_rule("orders", event_pattern={"source": ["com.shop"]})
    calls: list[Any] = []
    bus.put_targets("orders", [{"Id": "fn", "Arn": calls.append}])
    event_id = bus.put_events([{"Source": "com.shop", "DetailType": "Order", "Detail": "{}"}])["Entries"][0][
        "EventId"
    ]
    (publish,) = [span for span in spans() if span.name == "publish shop"]
    (invoke,) = [span for span in spans() if span.name == "process shop"]
    assert publish.kind is SpanKind.PRODUCER and invoke.kind is SpanKind.CONSUMER
    assert invoke.parent.span_id == publish.context.span_id
    assert invoke.attributes["messaging.system"] == "aws.eventbridge"
    assert (invoke.attributes["rulebus.rule"], invoke.attributes["rulebus.target"]) == ("orders", "fn")
    assert invoke.attributes["rulebus.event_id"] == event_id
    assert len(calls) == 1


def test_no_spans_without_a_tracer(
    broker: Broker, spans: Callable[[], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "TRACER", None)
    topic = broker.topic("alerts")
    received: list[Any] = []
    topic.subscribe(received.append)
    topic.publish("hello")
    broker.event_bus().put_events([{"Source": "a", "DetailType": "b", "Detail": "{}"}])
    assert len(received) == 1
    assert list(spans()) == []


# The global tracer provider can be set once per process, so what happens before and after it is
# set is seen in a fresh interpreter.
_BEFORE_AND_AFTER = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from rulebus import Broker, tracing

made = []
real = tracing.TRACER

class Counting:
    def start_as_current_span(self, name, **options):
        made.append(name)
        return real.start_as_current_span(name, **options)

tracing.TRACER = Counting()
broker = Broker()
topic = broker.topic("alerts")
topic.subscribe(lambda notification: None)
bus = broker.event_bus()
bus.put_rule("all", event_pattern={"source": ["a"]})
bus.put_targets("all", [{"Id": "t", "Arn": lambda event: None}])

def work():
    topic.publish("hello")
    bus.put_events([{"Source": "a", "DetailType": "b", "Detail": "{}"}])

work()
print(tracing.active(), len(made))
trace.set_tracer_provider(TracerProvider())
work()
print(tracing.active(), sorted(set(made)))
"""


def _fresh(tmp_path: Any, script: str) -> list[str]:
    """The lines a script prints in a fresh interpreter, where no tracer provider is set yet
    (in code or by OTEL_PYTHON_TRACER_PROVIDER)."""
    import os
    import subprocess
    import sys

    path = tmp_path / "fresh.py"
    path.write_text(script)
    environment = {k: v for k, v in os.environ.items() if k != "OTEL_PYTHON_TRACER_PROVIDER"}
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, env=environment
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_spans_are_made_only_once_a_tracer_provider_is_set(tmp_path: Any) -> None:
    before, after = _fresh(tmp_path, _BEFORE_AND_AFTER)
    # Before: OpenTelemetry's proxy would only make spans that record nothing, so none are made.
    assert before == "False 0"
    # After: a publish and a delivery span for each of the topic and the bus.
    assert after == (
        "True ['process arn:aws:sns:us-east-1:000000000000:alerts', 'process default', "
        "'publish alerts', 'publish default']"
    )


_FROM_THE_ENVIRONMENT = """
import os
from opentelemetry import trace
from rulebus import tracing

print(tracing.active())
os.environ["OTEL_PYTHON_TRACER_PROVIDER"] = "sdk_tracer_provider"
print(tracing.active(), type(trace.get_tracer_provider()).__name__)
"""


def test_a_provider_named_in_the_environment_is_followed(tmp_path: Any) -> None:
    # Named after rulebus was imported and asked: OpenTelemetry loads it at the next question.
    assert _fresh(tmp_path, _FROM_THE_ENVIRONMENT) == ["False", "True TracerProvider"]


_STEPPING_ASIDE = """
import os
import types

from opentelemetry.trace import ProxyTracerProvider

from rulebus import tracing

asked = []


def get_tracer_provider():
    asked.append(True)
    return ProxyTracerProvider()


assert tracing._none_set() and not tracing.active()
real, tracing._trace = tracing._trace, types.SimpleNamespace(get_tracer_provider=get_tracer_provider)
assert not tracing._none_set()  # an OpenTelemetry that keeps its provider elsewhere: ask it
assert not tracing.active() and asked == [True]
tracing._trace = real
environ, os.environ = os.environ, {}
assert not tracing._none_set()  # an os.environ replaced by another mapping: the same
os.environ = environ
os.environ["OTEL_PYTHON_TRACER_PROVIDER"] = "x"
assert not tracing._none_set()
del os.environ["OTEL_PYTHON_TRACER_PROVIDER"]
assert tracing._none_set()
print("ok")
"""


def test_the_direct_check_steps_aside_where_opentelemetry_or_the_environment_differ(tmp_path: Any) -> None:
    assert _fresh(tmp_path, _STEPPING_ASIDE) == ["ok"]
