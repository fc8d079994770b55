"""One broker's pipes, with EventBridge Pipes' API (EventBridge Pipes API Reference: CreatePipe,
DescribePipe, ListPipes, UpdatePipe, DeletePipe, StartPipe, StopPipe).

A pipe is polled by the broker's functions runtime (:mod:`rulebus.functions.runtime`) like an
event source mapping, so ``broker.wait_until_idle()`` and ``broker.run_functions()`` run pipes
too. Pipes live in the program that creates them, as functions and mappings do (a pipe's
enrichment and target may be Python functions), not in the store.

States: AWS moves a pipe through CREATING, STARTING, STOPPING, UPDATING and DELETING for a
while; here the change is made at once, so the call's answer carries the transitional state AWS
answers with and DescribePipe the settled one (RUNNING or STOPPED).
"""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rulebus import validation
from rulebus._errors import AwsError, constraint_error
from rulebus.arn import Arn, function_name
from rulebus.functions.event_source_mapping import KINESIS, SQS
from rulebus.functions.function import Function
from rulebus.functions.kinesis_source import KinesisSource
from rulebus.functions.runtime import Functions, open_source
from rulebus.functions.sqs_source import SqsSource
from rulebus.pipes.input_template import checked_length
from rulebus.pipes.parameters import (
    check_enrichment_parameters,
    check_source_parameters,
    check_target_parameters,
    invalid,
    updated_source_parameters,
)
from rulebus.pipes.pipe import RUNNING, STOPPED, Pipe, pipe_arn

if TYPE_CHECKING:
    from rulebus.context import Context

__all__ = ["Pipes"]

_NAME = re.compile(r"[\.\-_A-Za-z0-9]+")
_ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z0-9+=,.@\-_/]+")
STATES = (RUNNING, STOPPED)
MAX_DESCRIPTION = 512
MAX_LIST_LIMIT = 100


def pipe_not_found(name: str) -> AwsError:
    # Not in AWS's documentation: the text other emulators of Pipes record (docs/pipes.md).
    return AwsError("NotFoundException", f"Pipe {name} does not exist.", status=404)


def _check_name(name: Any) -> str:
    checked = checked_length(name, "name", 1, 64, required=True)
    assert checked is not None
    if not _NAME.fullmatch(checked):
        raise constraint_error(
            checked, "name", r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+"
        )
    return checked


def _check_state(state: Any) -> str:
    if state not in STATES:
        raise constraint_error(
            state, "desiredState", "Member must satisfy enum value set: [RUNNING, STOPPED]"
        )
    return str(state)


def _target_kind(arn: Arn) -> str | None:
    """The kind of target an ARN names (None: not one rulebus delivers to)."""
    if function_name(str(arn)) is not None:
        return "lambda"
    for service, resource_type in (("sqs", ""), ("sns", ""), ("events", "event-bus"), ("kinesis", "stream")):
        if arn.named(service, resource_type) is not None:
            return service
    return None


class Pipes:
    """The pipes of one broker (see the module docstring)."""

    def __init__(self, context: Context, functions: Functions) -> None:
        self._context = context
        self._functions = functions
        self._lock = threading.RLock()
        self._pipes: dict[str, Pipe] = {}
        self._sources: dict[str, SqsSource | KinesisSource] = {}

    # ------------------------------------------------------------------ resolving ARNs

    def _resolve(self, arn: str) -> Any:
        """The Function, Queue, Topic, EventBus or Stream an ARN of this broker names, else None."""
        parsed = Arn.parse(arn)
        if parsed is None:
            return None
        name = function_name(arn)
        if name is not None:
            if not parsed.is_in(self._context.region, self._context.account):
                return None
            try:
                return self._functions.get(name)
            except AwsError:
                return None
        return self._context.targets.resolve(arn)

    def _source(self, source: Any) -> SqsSource | KinesisSource:
        checked = checked_length(source, "source", 1, 1600, required=True)
        assert checked is not None
        if Arn.parse(checked) is None:
            raise constraint_error(
                checked, "source", "Member must satisfy regular expression pattern: arn:..."
            )
        opened = open_source(self._context, checked)
        if isinstance(opened, (SqsSource, KinesisSource)):
            return opened
        if opened in (SQS, KINESIS):
            # rulebus's words: AWS reports a source it cannot read as the pipe's CREATE_FAILED.
            raise invalid(f"Source {checked} does not exist.")
        # rulebus's words.
        raise invalid(
            f"Source {checked} is not supported: rulebus pipes read SQS queues and Kinesis streams."
        )

    def _target(self, target: Any) -> tuple[str, str, bool]:
        """(ARN, kind, whether it is a FIFO queue) of an existing target."""
        checked = checked_length(target, "target", 1, 1600, required=True)
        assert checked is not None
        parsed = Arn.parse(checked)
        kind = None if parsed is None else _target_kind(parsed)
        if kind is None:
            # rulebus's words.
            raise invalid(
                f"Target {checked} is not supported: rulebus pipes deliver to functions, queues, "
                "topics, event buses and streams."
            )
        found = self._resolve(checked)
        if found is None:
            raise invalid(f"Target {checked} does not exist.")  # rulebus's words, as for sources
        fifo = kind == "sqs" and checked.endswith(".fifo")
        if kind == "sns" and checked.endswith(".fifo"):
            # User guide: "Amazon SNS topic (SNS FIFO topics not supported)".
            raise invalid(f"Target {checked} is not supported: SNS FIFO topics are not pipe targets.")
        return checked, kind, fifo

    def _enrichment(self, enrichment: Any) -> str:
        if enrichment is None or enrichment == "":
            return ""
        checked = checked_length(enrichment, "enrichment", 0, 1600)
        assert checked is not None
        parsed = Arn.parse(checked)
        if parsed is None or function_name(checked) is None:
            # rulebus's words: API destinations, API Gateway and Step Functions are not emulated.
            raise invalid(f"Enrichment {checked} is not supported: rulebus enriches with functions.")
        if not isinstance(self._resolve(checked), Function):
            raise invalid(f"Enrichment {checked} does not exist.")  # rulebus's words
        return checked

    # ------------------------------------------------------------------ the API

    def create(
        self,
        name: Any,
        source: Any,
        target: Any,
        *,
        source_parameters: Any = None,
        enrichment: Any = None,
        enrichment_parameters: Any = None,
        target_parameters: Any = None,
        role_arn: Any = None,
        description: Any = None,
        desired_state: Any = RUNNING,
        tags: Any = None,
    ) -> dict[str, Any]:
        """CreatePipe: the pipe's summary in state CREATING."""
        context = self._context
        name = _check_name(name)
        state = _check_state(desired_state)
        role = self._role(role_arn)
        text = checked_length(description, "description", 0, MAX_DESCRIPTION) or ""
        opened = self._source(source)
        kind = KINESIS if isinstance(opened, KinesisSource) else SQS
        settings = check_source_parameters(source_parameters, kind, opened.fifo, state == RUNNING)
        target_arn, target_kind, fifo_target = self._target(target)
        given_size = _given_batch_size(settings.given, kind)
        checked_target = check_target_parameters(target_parameters, target_kind, given_size, fifo_target)
        enrichment_arn = self._enrichment(enrichment)
        template = check_enrichment_parameters(enrichment_parameters)
        tag_map = dict(validation.mapping(tags or {}, "tags", validation.PIPES))
        now = context.clock()
        pipe = Pipe(
            name=name,
            arn=pipe_arn(name, context.region, context.account),
            source=str(source),
            source_kind=kind,
            source_parameters=settings,
            target=target_arn,
            target_parameters=checked_target,
            role_arn=role,
            created=now,
            modified=now,
            desired_state=state,
            description=text,
            enrichment=enrichment_arn,
            enrichment_parameters=dict(enrichment_parameters or {}),
            enrichment_template=template,
            tags=tag_map,
            resolve=self._resolve,
            targets=context.targets,
            clock=context.clock,
        )
        with self._lock:
            if name in self._pipes:
                # UNVERIFIED: Pipes' text for a name taken (rulebus's words).
                # Not in AWS's documentation: as for pipe_not_found.
                raise AwsError("ConflictException", f"Pipe {name} already exists.", status=409)
            self._pipes[name] = pipe
            self._sources[name] = opened
        self._functions.attach(pipe.mapping(), opened, pipe)
        return _state_answer(pipe, "CREATING")

    def _role(self, role_arn: Any) -> str:
        if role_arn is None:
            return f"arn:aws:iam::{self._context.account}:role/rulebus-pipe"
        checked = checked_length(role_arn, "roleArn", 1, 1600, required=True)
        assert checked is not None
        if not _ROLE.fullmatch(checked):
            raise constraint_error(
                checked,
                "roleArn",
                "Member must satisfy regular expression pattern: " + _ROLE.pattern,
            )
        return checked

    def _pipe(self, name: Any) -> Pipe:
        checked = _check_name(name)
        with self._lock:
            pipe = self._pipes.get(checked)
        if pipe is None:
            raise pipe_not_found(checked)
        return pipe

    def describe(self, name: Any) -> dict[str, Any]:
        """DescribePipe (NotFoundException for an unknown name)."""
        return self._pipe(name).describe()

    def list_pipes(
        self,
        *,
        name_prefix: Any = None,
        desired_state: Any = None,
        current_state: Any = None,
        source_prefix: Any = None,
        target_prefix: Any = None,
        limit: Any = None,
        next_token: Any = None,
    ) -> dict[str, Any]:
        """ListPipes: ``{"Pipes": [...], "NextToken"?}``, by name, filtered by what is given."""
        if limit is not None:
            limit = validation.integer(limit, "limit", validation.PIPES)
            if not 1 <= limit <= MAX_LIST_LIMIT:
                raise constraint_error(
                    limit,
                    "limit",
                    "Member must have value "
                    + (
                        "greater than or equal to 1"
                        if limit < 1
                        else f"less than or equal to {MAX_LIST_LIMIT}"
                    ),
                )
        for state in (desired_state, current_state):
            if state is not None:
                _check_state(state)
        start = 0
        if next_token is not None:
            token = validation.text(next_token, "nextToken", validation.PIPES)
            if not token.isdigit():
                # rulebus's words: a token this broker did not give.
                raise invalid("The nextToken is not valid.")
            start = int(token)
        with self._lock:
            pipes = [self._pipes[name] for name in sorted(self._pipes)]
        chosen = [
            pipe
            for pipe in pipes
            if (name_prefix is None or pipe.name.startswith(name_prefix))
            and (desired_state is None or pipe.desired_state == desired_state)
            and (current_state is None or pipe.desired_state == current_state)
            and (source_prefix is None or pipe.source.startswith(source_prefix))
            and (target_prefix is None or pipe.target.startswith(target_prefix))
        ]
        end = len(chosen) if limit is None else start + limit
        answer: dict[str, Any] = {"Pipes": [pipe.summary() for pipe in chosen[start:end]]}
        if end < len(chosen):
            answer["NextToken"] = str(end)
        return answer

    def update(
        self,
        name: Any,
        *,
        source_parameters: Any = None,
        enrichment: Any = None,
        enrichment_parameters: Any = None,
        target: Any = None,
        target_parameters: Any = None,
        role_arn: Any = None,
        description: Any = None,
        desired_state: Any = None,
    ) -> dict[str, Any]:
        """UpdatePipe: what is given replaces the pipe's (``enrichment=""`` removes the
        enrichment; the source cannot change). Answers in state UPDATING."""
        pipe = self._pipe(name)
        state = pipe.desired_state if desired_state is None else _check_state(desired_state)
        role = pipe.role_arn if role_arn is None else self._role(role_arn)
        text = (
            pipe.description
            if description is None
            else checked_length(description, "description", 0, MAX_DESCRIPTION)
        )
        with self._lock:
            opened = self._sources[pipe.name]
        given = pipe.source_parameters.given
        if source_parameters is not None:
            given = updated_source_parameters(given, source_parameters)
        settings = check_source_parameters(given, pipe.source_kind, opened.fifo, state == RUNNING)
        target_arn, target_kind, fifo_target = self._target(target if target is not None else pipe.target)
        checked_target = check_target_parameters(
            target_parameters if target_parameters is not None else pipe.target_parameters.given,
            target_kind,
            _given_batch_size(settings.given, pipe.source_kind),
            fifo_target,
        )
        enrichment_arn = pipe.enrichment if enrichment is None else self._enrichment(enrichment)
        new_enrichment_parameters = (
            pipe.enrichment_parameters if enrichment_parameters is None else dict(enrichment_parameters)
        )
        template = check_enrichment_parameters(new_enrichment_parameters or None)
        updated = replace(
            pipe,
            source_parameters=settings,
            target=target_arn,
            target_parameters=checked_target,
            role_arn=role,
            description=text or "",
            desired_state=state,
            enrichment=enrichment_arn,
            enrichment_parameters=new_enrichment_parameters,
            enrichment_template=template,
            modified=self._context.clock(),
        )
        with self._lock:
            if self._pipes.get(pipe.name) is not pipe:
                raise pipe_not_found(pipe.name)  # deleted (or changed) meanwhile
            self._pipes[pipe.name] = updated
        self._functions.attach(updated.mapping(), opened, updated)
        return _state_answer(updated, "UPDATING")

    def _set_state(self, name: Any, state: str, transition: str) -> dict[str, Any]:
        pipe = self._pipe(name)
        settings = pipe.source_parameters
        changed = replace(
            pipe,
            desired_state=state,
            source_parameters=replace(
                settings, settings=replace(settings.settings, enabled=state == RUNNING)
            ),
            modified=self._context.clock(),
        )
        with self._lock:
            if self._pipes.get(pipe.name) is not pipe:
                raise pipe_not_found(pipe.name)
            self._pipes[pipe.name] = changed
            opened = self._sources[pipe.name]
        self._functions.attach(changed.mapping(), opened, changed)
        return _state_answer(changed, transition)

    def start(self, name: Any) -> dict[str, Any]:
        """StartPipe: the pipe polls its source again (answer in state STARTING)."""
        return self._set_state(name, RUNNING, "STARTING")

    def stop(self, name: Any) -> dict[str, Any]:
        """StopPipe: the pipe stops polling (batches already taken finish; answer in state
        STOPPING). Its messages stay in the queue and a stream's position is kept."""
        return self._set_state(name, STOPPED, "STOPPING")

    def delete(self, name: Any) -> dict[str, Any]:
        """DeletePipe: the answer in state DELETING, desired state DELETED."""
        pipe = self._pipe(name)
        with self._lock:
            self._pipes.pop(pipe.name, None)
            self._sources.pop(pipe.name, None)
        self._functions.detach(pipe.mapping_uuid)
        answer = _state_answer(pipe, "DELETING")
        answer["DesiredState"] = "DELETED"
        return answer

    def names(self) -> list[str]:
        """Every pipe's name, sorted."""
        with self._lock:
            return sorted(self._pipes)


def _given_batch_size(given: dict[str, Any], kind: str) -> int | None:
    member = "KinesisStreamParameters" if kind == KINESIS else "SqsQueueParameters"
    size = (given.get(member) or {}).get("BatchSize")
    return size if isinstance(size, int) else None


def _state_answer(pipe: Pipe, current_state: str) -> dict[str, Any]:
    """What CreatePipe, UpdatePipe, StartPipe, StopPipe and DeletePipe answer."""
    summary = pipe.summary(current_state)
    return {
        key: summary[key]
        for key in ("Arn", "Name", "DesiredState", "CurrentState", "CreationTime", "LastModifiedTime")
    }
