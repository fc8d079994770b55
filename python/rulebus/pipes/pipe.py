"""One pipe: what it is (its answer to DescribePipe) and what it does with a batch its source
gives it (EventBridge User Guide, 'Amazon EventBridge Pipes').

The source's poller (:mod:`rulebus.functions.sqs_source`, :mod:`rulebus.functions.kinesis_source`,
the same as a Lambda mapping's) reads a batch, drops the records no filter matches (in the
engine, in one call for the batch) and hands the rest to :meth:`Pipe.run_records`, which

1. gives the batch, each record through the enrichment's InputTemplate, to the enrichment
   function, whose answer replaces the batch (a list is the new batch, anything else one record,
   nothing or ``[]`` ends the batch there: nothing is sent);
2. hands the batch to the target (:mod:`rulebus.pipes.delivery`), each record through the
   target's InputTemplate.

Its answer is the source's to settle, as for a function: a failure (the enrichment's, the
target's, a template that makes no JSON) fails the whole batch, and a target function's
``batchItemFailures`` fail those records (SQS: back to the queue, then the redrive policy;
Kinesis: retried, bisected with AUTOMATIC_BISECT, then to the DeadLetterConfig).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from rulebus.functions.event_source_mapping import EventSourceMapping
from rulebus.functions.function import Function, Invocation
from rulebus.pipes.delivery import TargetError, deliver
from rulebus.pipes.input_template import InputTemplate, PipeVariables
from rulebus.pipes.parameters import SourceParameters, TargetParameters

if TYPE_CHECKING:
    from rulebus.targets import Targets

__all__ = ["Pipe", "pipe_arn"]

_log = logging.getLogger("rulebus.pipes")

RUNNING = "RUNNING"
STOPPED = "STOPPED"


def pipe_arn(name: str, region: str, account: str) -> str:
    """A pipe's ARN."""
    return f"arn:aws:pipes:{region}:{account}:pipe/{name}"


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """A source record as Pipes passes it on: a Kinesis record's ``kinesis`` members at the top
    level (Pipes' Kinesis event is flat, Lambda's nests them)."""
    inner = record.get("kinesis")
    if not isinstance(inner, dict):
        return record
    flat = {key: value for key, value in record.items() if key != "kinesis"}
    return {**inner, **flat}


@dataclass
class Pipe:
    """A pipe (see the module docstring): its settings and the mapping its source is polled by.
    Changed only by :class:`rulebus.pipes.Pipes` under its lock."""

    name: str
    arn: str
    source: str
    source_kind: str  # "sqs" or "kinesis"
    source_parameters: SourceParameters
    target: str
    target_parameters: TargetParameters
    role_arn: str
    created: float
    modified: float
    desired_state: str = RUNNING
    description: str = ""
    enrichment: str = ""
    enrichment_parameters: dict[str, Any] = field(default_factory=dict)
    enrichment_template: InputTemplate | None = None
    tags: dict[str, str] = field(default_factory=dict)
    mapping_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: How a run finds its functions and destinations (set by Pipes).
    resolve: Callable[[str], Any] | None = field(default=None, repr=False)
    targets: Targets | None = field(default=None, repr=False)
    clock: Callable[[], float] = field(default=lambda: 0.0, repr=False)
    reserved_concurrency: int | None = None

    # ------------------------------------------------------------------ what it is

    def mapping(self) -> EventSourceMapping:
        """The event source mapping that polls the source for this pipe."""
        return EventSourceMapping(
            uuid=self.mapping_uuid,
            arn=self.arn,
            function_name=f"pipe/{self.name}",
            function_arn=self.arn,
            event_source_arn=self.source,
            source_name=self.source.rsplit(":", 1)[-1].split("/")[-1],
            settings=self.source_parameters.settings,
            last_modified=self.modified,
        )

    def summary(self, current_state: str | None = None) -> dict[str, Any]:
        """The pipe as ListPipes and the state-changing calls answer."""
        answer: dict[str, Any] = {
            "Name": self.name,
            "Arn": self.arn,
            "DesiredState": self.desired_state,
            "CurrentState": current_state or self.desired_state,
            "CreationTime": _time(self.created),
            "LastModifiedTime": _time(self.modified),
            "Source": self.source,
            "Target": self.target,
        }
        if self.enrichment:
            answer["Enrichment"] = self.enrichment
        return answer

    def describe(self) -> dict[str, Any]:
        """DescribePipe's answer."""
        answer = self.summary()
        answer.update(
            {
                "Description": self.description,
                "SourceParameters": self.source_parameters.given,
                "EnrichmentParameters": self.enrichment_parameters,
                "TargetParameters": self.target_parameters.given,
                "RoleArn": self.role_arn,
                "Tags": dict(self.tags),
            }
        )
        return answer

    # ------------------------------------------------------------------ what it does

    def _variables(self) -> PipeVariables:
        return PipeVariables(self.arn, self.name, self.source, self.enrichment, self.target)

    def _rendered(self, template: InputTemplate | None, records: list[Any], now: float) -> list[Any]:
        if template is None:
            return records
        variables = self._variables()
        return [template.render(record, variables, now) for record in records]

    def run_records(self, records: list[dict[str, Any]]) -> Invocation:
        """Enrich and deliver one batch (see the module docstring)."""
        assert self.resolve is not None and self.targets is not None
        now = self.clock()
        events: list[Any] = [_flat(record) for record in records]
        try:
            if self.enrichment:
                enrichment = self.resolve(self.enrichment)
                if not isinstance(enrichment, Function):
                    raise TargetError(f"the enrichment {self.enrichment} does not exist")
                enriched = enrichment.run(self._rendered(self.enrichment_template, events, now))
                if enriched.failed:
                    return enriched
                events = _as_batch(enriched.result)
                if not events:
                    return Invocation()
            target = self.resolve(self.target)
            payloads = self._rendered(self.target_parameters.template, events, now)
            source_type = "aws:kinesis" if self.source_kind == "kinesis" else "aws:sqs"
            targets = self.targets
            delivered = deliver(
                target,
                events,
                payloads,
                self.target_parameters,
                self.name,
                source_type,
                targets.invoke_function,
            )
        except Exception as error:  # a refused target, a template, a store: the batch fails
            _log.warning("pipe %s failed a batch of %d: %r", self.name, len(records), error)
            return Invocation(error=(type(error).__name__, str(error)))
        if delivered.failed:
            return delivered
        result = delivered.result
        # Only a batchItemFailures answer means anything to the source; any other is success.
        if isinstance(result, dict) and "batchItemFailures" in result:
            return Invocation(result={"batchItemFailures": result["batchItemFailures"]})
        return Invocation()


def _as_batch(result: Any) -> list[Any]:
    """An enrichment's answer as the batch it replaces the old one with."""
    if result is None:
        return []
    if isinstance(result, list):
        return result
    return [result]
