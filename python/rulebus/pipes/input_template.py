"""Pipes' input transformation and dynamic path parameters (EventBridge User Guide, 'Amazon
EventBridge Pipes input transformation' and 'Amazon EventBridge Pipes targets').

- An ``InputTemplate`` is applied to each record of a batch on its own. Its placeholders are
  JSONPaths into the record (``<$.body.orderId>``) or Pipes' reserved variables
  (``<aws.pipes.pipe-name>``...); everything else about it (JSON templates, values inside and
  outside strings, missing values) is EventBridge's input transformer's
  (:mod:`rulebus.events.input_transformer`), whose pieces this module uses.
- Implicit body parsing: an SQS record's ``body`` and a Kinesis record's ``data`` (base64) that
  hold JSON are read as that JSON by paths, so ``$.body.orderId`` reaches into the message.
- A target parameter whose whole value is a JSONPath (``"$.body.customerId"``) is replaced, for
  each record, by the value at that path ("dynamic path parameters").
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rulebus import _jsontext as jsontext
from rulebus import validation
from rulebus._errors import AwsError, constraint_error
from rulebus.events.input_transformer import (
    InputTransformationError,
    Placeholder,
    Segment,
    Step,
    compile_path,
    is_missing,
    json_value_text,
    minify,
    parse_template,
    select,
    string_text,
)

__all__ = [
    "RESERVED",
    "InputTemplate",
    "PipeVariables",
    "check_dynamic",
    "checked_length",
    "parsed",
    "resolve_dynamic",
]

MAX_INPUT_TEMPLATE_LENGTH = 8192

PIPE_ARN = "aws.pipes.pipe-arn"
PIPE_NAME = "aws.pipes.pipe-name"
SOURCE_ARN = "aws.pipes.source-arn"
ENRICHMENT_ARN = "aws.pipes.enrichment-arn"
TARGET_ARN = "aws.pipes.target-arn"
INGESTION_TIME = "aws.pipes.event.ingestion-time"
EVENT = "aws.pipes.event"
EVENT_JSON = "aws.pipes.event.json"
RESERVED = frozenset(
    {PIPE_ARN, PIPE_NAME, SOURCE_ARN, ENRICHMENT_ARN, TARGET_ARN, INGESTION_TIME, EVENT, EVENT_JSON}
)


def checked_length(value: Any, where: str, low: int, high: int, *, required: bool = False) -> str | None:
    """A text parameter whose length the request model bounds."""
    checked = validation.text(value, where, validation.PIPES, required=required)
    if checked is None:
        return None
    if len(checked) < low:
        raise constraint_error(checked, where, f"Member must have length greater than or equal to {low}")
    if len(checked) > high:
        raise constraint_error(checked, where, f"Member must have length less than or equal to {high}")
    return checked


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def parsed(record: Any) -> Any:
    """``record`` as paths read it: an SQS ``body`` or a Kinesis ``data`` that holds JSON is
    that JSON (Kinesis ``data`` is base64-decoded first, and kept as text when it is not JSON)."""
    if not isinstance(record, Mapping):
        return record
    view = dict(record)
    body = view.get("body")
    if isinstance(body, str):
        with contextlib.suppress(ValueError):
            view["body"] = jsontext.loads(body)
    data = view.get("data")
    if isinstance(data, str) and view.get("eventSource") == "aws:kinesis":
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return view
        text = raw.decode("utf-8", "replace")
        try:
            view["data"] = jsontext.loads(raw)
        except ValueError:
            view["data"] = text
    return view


def _path(value: str, where: str) -> tuple[Step, ...]:
    steps = compile_path(value)
    if steps is None:
        # rulebus's words: AWS's text for a path outside the supported syntax is not recorded.
        raise _invalid(f"Invalid JSON path {value} at {where}.")
    return steps


def check_dynamic(value: str | None, where: str) -> None:
    """A target parameter that is a JSONPath must be one EventBridge can follow."""
    if value is not None and value.startswith("$."):
        _path(value, where)


def resolve_dynamic(value: str | None, view: Any) -> str | None:
    """A parameter's value for one record: the text at its path when it is a JSONPath (None when
    the record has nothing there), else the value itself."""
    if value is None or not value.startswith("$."):
        return value
    steps = compile_path(value)
    found = select(view, steps or ())
    if is_missing(found) or found is None:
        return None
    return string_text(found)


@dataclass(frozen=True)
class PipeVariables:
    """The values of Pipes' reserved variables for one pipe."""

    pipe_arn: str
    pipe_name: str
    source_arn: str
    enrichment_arn: str
    target_arn: str

    def value(self, name: str, record: Any, view: Any, ingestion_time: float) -> Any:
        if name == INGESTION_TIME:
            moment = datetime.fromtimestamp(ingestion_time, timezone.utc)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if name == EVENT:
            return record
        if name == EVENT_JSON:
            return view
        return {
            PIPE_ARN: self.pipe_arn,
            PIPE_NAME: self.pipe_name,
            SOURCE_ARN: self.source_arn,
            ENRICHMENT_ARN: self.enrichment_arn,
            TARGET_ARN: self.target_arn,
        }[name]


class InputTemplate:
    """A compiled InputTemplate (see the module docstring)."""

    def __init__(
        self, text: str, segments: list[Segment], paths: dict[str, tuple[Step, ...]], is_json: bool
    ) -> None:
        self.text = text
        self._segments = segments
        self._paths = paths
        self.is_json = is_json

    @classmethod
    def compile(cls, template: Any, where: str) -> InputTemplate:
        """Check ``template`` (``where`` names it in errors) and compile it."""
        text = checked_length(template, where, 0, MAX_INPUT_TEMPLATE_LENGTH, required=True)
        assert text is not None
        stripped = text.lstrip()
        is_json = stripped.startswith(("{", "["))
        segments = parse_template(text, is_json)
        paths: dict[str, tuple[Step, ...]] = {}
        for segment in segments:
            if not isinstance(segment, Placeholder):
                continue
            if segment.name in RESERVED:
                continue
            if not segment.name.startswith("$"):
                # rulebus's words, in the style of EventBridge's input transformer's.
                raise _invalid(f"InputTemplate at {where} contains invalid placeholder {segment.name}.")
            paths[segment.name] = _path(segment.name, where)
        return cls(text, segments, paths, is_json)

    def render(self, record: Any, variables: PipeVariables, ingestion_time: float) -> Any:
        """What the template makes of ``record``: the JSON it writes (parsed) for a JSON template,
        else its text. Raises :class:`InputTransformationError` when a JSON template's result is
        not JSON (Pipes then delivers nothing of the batch)."""
        view = parsed(record)
        out: list[str] = []
        for segment in self._segments:
            if isinstance(segment, str):
                out.append(segment)
                continue
            steps = self._paths.get(segment.name)
            if steps is not None:
                value = select(view, steps)
            else:
                value = variables.value(segment.name, record, view, ingestion_time)
            out.append(string_text(value) if segment.in_string else json_value_text(value))
        text = "".join(out)
        if not self.is_json:
            return text
        try:
            return jsontext.loads(minify(text))
        except ValueError:
            raise InputTransformationError(f"the transformed input is not valid JSON: {text}") from None
