"""What an EventBridge target receives: its Input, InputPath or InputTransformer.

Why it looks like this: PutTargets validates a target's input once and every matching event is then
rendered many times, so :meth:`TargetInput.from_target` validates and compiles (JSONPaths into
steps, the template into literal text and placeholders that know whether they stand inside a JSON
string) and :meth:`TargetInput.render` only looks values up and joins text.

The rules (EventBridge User Guide, 'Amazon EventBridge input transformation'), and where they
come from:

- No input keys: the whole event, as compact JSON. ``Input``: delivered verbatim; it must be JSON.
  ``InputPath``: the selected part, as compact JSON (a string arrives quoted, ``"baz"``; LocalStack
  snapshots recorded on AWS). At most one of the three ("Only one of Input, InputPath, or
  InputTransformer must be provided for target <id>.", recorded on AWS).
- JSONPaths: the subset the user guide lists: ``$`` then ``.name`` steps (letters, digits, ``_``,
  ``-``, ``/``), ``[n]`` indices and the ``*`` / ``[*]`` wildcards; quoted brackets are refused.
- ``InputTemplate``: a template whose text starts with ``{`` is a JSON template; anything else is
  plain text, delivered as written with its placeholders filled in (so ``"a <b> c"`` arrives with
  its quotes). A placeholder outside a JSON string takes the value's JSON form (strings quoted);
  inside a string, or in a plain template, it takes the value's text, *not escaped* ("EventBridge
  doesn't escape values extracted by Input Path", user guide), with objects and arrays written as
  compact JSON without their double quotes (``{a:1}``, ``[x,y]``; LocalStack's observation).
  A path missing from the event gives ``""`` outside strings and nothing inside them (recorded on
  AWS). A rendered JSON template is minified (user guide: "The JSON that is passed to the target is
  minified"); if it is not valid JSON, AWS delivers nothing, and :meth:`TargetInput.render` raises
  :class:`InputTransformationError`.
- Reserved variables: ``<aws.events.rule-arn>``, ``<aws.events.rule-name>``,
  ``<aws.events.event.ingestion-time>``, ``<aws.events.event>`` (the event without ``detail``, with
  ``detailType`` and ``time`` = ingestion time, in the key order recorded on AWS) and
  ``<aws.events.event.json>`` (the whole event); the last two only in JSON templates.

Error codes and texts: AWS's where a recording exists (the tests name them); the others are marked
UNVERIFIED at the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Union

from rulebus import _jsontext as jsontext
from rulebus import validation
from rulebus._errors import AwsError, RulebusError
from rulebus._errors import constraint_error as _constraint

__all__ = [
    "MAX_INPUT_LENGTH",
    "MAX_INPUT_PATHS",
    "MAX_INPUT_PATH_LENGTH",
    "MAX_INPUT_TEMPLATE_LENGTH",
    "RESERVED_VARIABLES",
    "InputTransformationError",
    "Placeholder",
    "TargetInput",
]

VALIDATION = "ValidationException"

#: Limits from the PutTargets request model (EventBridge API Reference, PutTargets, InputTransformer).
MAX_INPUT_LENGTH = 8192
MAX_INPUT_PATH_LENGTH = 256
MAX_INPUT_PATHS = 100
MAX_INPUT_PATHS_KEY_LENGTH = 256
MAX_INPUT_PATHS_VALUE_LENGTH = 256
MAX_INPUT_TEMPLATE_LENGTH = 8192

RULE_ARN = "aws.events.rule-arn"
RULE_NAME = "aws.events.rule-name"
INGESTION_TIME = "aws.events.event.ingestion-time"
EVENT = "aws.events.event"
EVENT_JSON = "aws.events.event.json"
RESERVED_VARIABLES = frozenset({RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON})
_JSON_TEMPLATE_ONLY = (EVENT, EVENT_JSON)

# The InputPathsMap key pattern of the request model; a key with a dot (every reserved name) fails it.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_\-]+")
# UNVERIFIED: which "<...>" AWS reads as a placeholder; here any run without angle brackets.
_PLACEHOLDER = re.compile(r"<([^<>]+)>")
_PATH_NAME = re.compile(r"[A-Za-z0-9_\-/]+")
_PATH_STEP = re.compile(r"\.([A-Za-z0-9_\-/]+|\*)|\[(\d+|\*)\]")

# (step kind, argument): ("key", name), ("index", n) or ("any", None).
Step = tuple[str, Union[str, int, None]]
_MISSING: Any = object()


class InputTransformationError(RulebusError):
    """An event for which the target's input cannot be built (a JSON template that renders invalid
    JSON, an InputPath the event lacks): AWS delivers nothing to the target for it."""


# --------------------------------------------------------------------------------------------------
# Validation errors


def _validation(message: str) -> AwsError:
    return AwsError(VALIDATION, message)


def _longer_than(limit: int) -> str:
    return f"Member must have length less than or equal to {limit}"


def _java_map(paths: Mapping[str, str]) -> str:
    # UNVERIFIED: AWS prints a map value as Java's Map.toString does.
    return "{" + ", ".join(f"{key}={value}" for key, value in paths.items()) + "}"


def _jackson_source(text: str, line: int, column: int) -> str:
    """Jackson's location suffix as EventBridge quotes it, the source cut at 500 characters."""
    shown = text if len(text) <= 500 else f'{text[:500]}"[truncated {len(text) - 500} chars]'
    closing = "" if len(text) > 500 else '"'
    return f'[Source: (String)"{shown}{closing}; line: {line}, column: {column}]'


def _json_error_location(text: str) -> tuple[int, int] | None:
    """Where a JSON parser gives up on ``text`` (1-based line and column), None if it parses.

    Jackson reads a bare word whole before refusing it, so the column is the one after the word
    ("env:dev" -> column 4, recorded on AWS); elsewhere it is the offending character's. Other
    positions are approximations of Jackson's.
    """
    try:
        jsontext.loads(text)
    except json.JSONDecodeError as error:
        position = error.pos
        word = re.match(r"[A-Za-z0-9_+\-.]+", text[position:])
        if word is not None:
            position += len(word.group())
        line_start = text.rfind("\n", 0, position) + 1
        return text.count("\n", 0, position) + 1, position - line_start + 1
    return None


# --------------------------------------------------------------------------------------------------
# JSONPath


def compile_path(path: str) -> tuple[Step, ...] | None:
    """The steps of a JSONPath in the subset EventBridge accepts, None if it is outside it."""
    if not path.startswith("$"):
        return None
    steps: list[Step] = []
    position = 1
    while position < len(path):
        match = _PATH_STEP.match(path, position)
        if match is None:
            return None
        name, index = match.groups()
        if name is not None:
            steps.append(("any", None) if name == "*" else ("key", name))
        else:
            steps.append(("any", None) if index == "*" else ("index", int(index)))
        position = match.end()
    return tuple(steps)


def _children(node: Any) -> list[Any]:
    if isinstance(node, Mapping):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _step(node: Any, step: Step) -> Any:
    kind, argument = step
    if kind == "key" and isinstance(node, Mapping):
        return node.get(argument, _MISSING)
    if kind == "index" and isinstance(node, list) and isinstance(argument, int):
        return node[argument] if argument < len(node) else _MISSING
    return _MISSING


def select(event: Any, steps: Sequence[Step]) -> Any:
    """The value at ``steps`` in ``event``; a path with a wildcard gives the list of its matches
    (as JSONPath does for indefinite paths); a missing value gives the module's missing marker."""
    if not any(kind == "any" for kind, _ in steps):
        node = event
        for step in steps:
            node = _step(node, step)
            if node is _MISSING:
                return _MISSING
        return node
    nodes = [event]
    for step in steps:
        if step[0] == "any":
            nodes = [child for node in nodes for child in _children(node)]
        else:
            nodes = [found for node in nodes if (found := _step(node, step)) is not _MISSING]
    return nodes


def is_missing(value: Any) -> bool:
    return value is _MISSING


# --------------------------------------------------------------------------------------------------
# Values as text


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_value_text(value: Any) -> str:
    """A value where a JSON value stands: its JSON form; a missing one is ``""`` (recorded on AWS)."""
    return '""' if value is _MISSING else _compact(value)


def string_text(value: Any) -> str:
    """A value inside a JSON string or a plain template: its text, unescaped; objects and arrays as
    compact JSON without double quotes (LocalStack's observation of AWS)."""
    if value is _MISSING:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (Mapping, list)):
        return _compact(value).replace('"', "")
    return _compact(value)


def iso_time(epoch_seconds: float) -> str:
    """AWS's event time format, second precision: ``2015-11-11T21:29:54Z``."""
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_variable(event: Mapping[str, Any], ingestion_time: str) -> dict[str, Any]:
    """``<aws.events.event>``: the event without detail, ``detailType`` for ``detail-type`` and the
    ingestion time as ``time``, in the key order recorded on AWS (LocalStack snapshot)."""
    fields = {
        "id": event.get("id", _MISSING),
        "account": event.get("account", _MISSING),
        "detailType": event.get("detail-type", _MISSING),
        "time": ingestion_time,
        "source": event.get("source", _MISSING),
        "region": event.get("region", _MISSING),
        "resources": event.get("resources", _MISSING),
        "version": event.get("version", _MISSING),
    }
    return {key: value for key, value in fields.items() if value is not _MISSING}


# --------------------------------------------------------------------------------------------------
# Templates


@dataclass(frozen=True)
class _Placeholder:
    name: str
    in_string: bool  # inside a JSON string (or a plain template): rendered as text


Segment = Union[str, _Placeholder]
#: A template's placeholder, as :func:`parse_template` gives it (public for Pipes' templates).
Placeholder = _Placeholder


def _string_spans(template: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the JSON strings in a JSON template, quotes included."""
    spans: list[tuple[int, int]] = []
    start = -1
    escaped = False
    for offset, char in enumerate(template):
        if start < 0:
            if char == '"':
                start = offset
        elif escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            spans.append((start, offset + 1))
            start = -1
    if start >= 0:
        spans.append((start, len(template)))
    return spans


def parse_template(template: str, is_json: bool) -> list[Segment]:
    """Literal text and placeholders, each placeholder knowing whether it stands in a string."""
    spans = _string_spans(template) if is_json else []
    segments: list[Segment] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        inside = not is_json or any(start < match.start() < end for start, end in spans)
        if match.start() > position:
            segments.append(template[position : match.start()])
        segments.append(_Placeholder(match.group(1), inside))
        position = match.end()
    if position < len(template):
        segments.append(template[position:])
    return segments


def minify(text: str) -> str:
    """JSON text without the whitespace outside its strings; strings and numbers kept as written."""
    out: list[str] = []
    position = 0
    for start, end in _string_spans(text):
        out.append(re.sub(r"[ \t\r\n]+", "", text[position:start]))
        out.append(text[start:end])
        position = end
    out.append(re.sub(r"[ \t\r\n]+", "", text[position:]))
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# The compiled target input

Renderer = Callable[[Mapping[str, Any], str, str, float], str]


class TargetInput:
    """A target's compiled input: build it with :meth:`from_target` when targets are put (it
    validates as PutTargets does) and call :meth:`render` for every event the rule matches."""

    __slots__ = ("_render", "kind")

    def __init__(self, kind: str, render: Renderer) -> None:
        self.kind = kind  # "event", "input", "input_path" or "input_transformer"
        self._render = render

    @classmethod
    def from_target(cls, target: Mapping[str, Any], index: int = 1) -> TargetInput:
        """Validate and compile AWS's target keys (Input, InputPath, InputTransformer).

        ``index`` is the target's 1-based position in the PutTargets request, named in AWS's
        request-model error texts (``targets.<index>.member.input``).
        """
        target_id = str(target.get("Id", ""))
        input_ = target.get("Input")
        input_path = target.get("InputPath")
        transformer = target.get("InputTransformer")
        _check_model(input_, input_path, transformer, f"targets.{index}.member")
        if sum(value is not None for value in (input_, input_path, transformer)) > 1:
            raise _validation(
                f"Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}."
            )
        if input_ is not None:
            return _constant_input(input_, target_id)
        if input_path is not None:
            return _path_input(input_path, target_id)
        if transformer is not None:
            return _transformer_input(transformer, target_id)
        return cls("event", lambda event, _arn, _name, _time: _compact(event))

    def render(self, event: Mapping[str, Any], rule_arn: str, rule_name: str, ingestion_time: float) -> str:
        """The text delivered to the target for ``event`` (the EventBridge envelope as a dict),
        matched by the rule ``rule_arn``/``rule_name`` and received at ``ingestion_time`` (UTC epoch
        seconds). Raises :class:`InputTransformationError` where AWS would deliver nothing."""
        return self._render(event, rule_arn, rule_name, ingestion_time)

    def __repr__(self) -> str:
        return f"TargetInput({self.kind})"


def _check_model(input_: Any, input_path: Any, transformer: Any, where: str) -> None:
    """The request model's types, length and pattern constraints, checked before anything else."""
    validation.text(input_, f"{where}.input", validation.EVENTS, required=False)
    validation.text(input_path, f"{where}.inputPath", validation.EVENTS, required=False)
    validation.mapping(transformer, f"{where}.inputTransformer", validation.EVENTS, required=False)
    if isinstance(input_, str) and len(input_) > MAX_INPUT_LENGTH:
        raise _constraint(input_, f"{where}.input", _longer_than(MAX_INPUT_LENGTH))
    if isinstance(input_path, str) and len(input_path) > MAX_INPUT_PATH_LENGTH:
        raise _constraint(input_path, f"{where}.inputPath", _longer_than(MAX_INPUT_PATH_LENGTH))
    if isinstance(transformer, Mapping):
        _check_transformer_model(transformer, f"{where}.inputTransformer")


def _check_transformer_model(transformer: Mapping[str, Any], where: str) -> None:
    template = transformer.get("InputTemplate")
    if template is None:
        # UNVERIFIED: the model's text for a missing required member.
        raise _validation(
            f"1 validation error detected: Value null at '{where}.inputTemplate' "
            "failed to satisfy constraint: Member must not be null"
        )
    validation.text(template, f"{where}.inputTemplate", validation.EVENTS)
    if len(template) < 1:
        raise _constraint(
            template, f"{where}.inputTemplate", "Member must have length greater than or equal to 1"
        )
    if len(template) > MAX_INPUT_TEMPLATE_LENGTH:
        raise _constraint(template, f"{where}.inputTemplate", _longer_than(MAX_INPUT_TEMPLATE_LENGTH))
    paths: Mapping[str, str] = transformer.get("InputPathsMap") or {}
    validation.mapping(paths, f"{where}.inputPathsMap", validation.EVENTS)
    for key, value in paths.items():
        validation.text(key, f"{where}.inputPathsMap", validation.EVENTS)
        validation.text(value, f"{where}.inputPathsMap", validation.EVENTS)
    _check_paths_model(paths, f"{where}.inputPathsMap")


def _check_paths_model(paths: Mapping[str, str], where: str) -> None:
    # UNVERIFIED: the texts of map constraints ("Map keys must satisfy constraint: [...]").
    shown = _java_map(paths)
    if len(paths) > MAX_INPUT_PATHS:
        raise _constraint(shown, where, _longer_than(MAX_INPUT_PATHS))
    for key, value in paths.items():
        if len(key) > MAX_INPUT_PATHS_KEY_LENGTH:
            raise _constraint(shown, where, f"Map keys must satisfy constraint: [{_longer_than(256)}]")
        if not _KEY_PATTERN.fullmatch(key):
            raise _constraint(
                shown,
                where,
                "Map keys must satisfy constraint: "
                "[Member must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+]",
            )
        if len(value) > MAX_INPUT_PATHS_VALUE_LENGTH:
            raise _constraint(shown, where, f"Map value must satisfy constraint: [{_longer_than(256)}]")


def _constant_input(input_: str, target_id: str) -> TargetInput:
    location = _json_error_location(input_)
    if location is not None:
        # Recorded on AWS (aws/aws-cli#6711): "JSON syntax error in input for target 1: [Source: ...]".
        raise _validation(
            f"JSON syntax error in input for target {target_id}: {_jackson_source(input_, *location)}"
        )
    return TargetInput("input", lambda _event, _arn, _name, _time: input_)


def _compile_path_or_raise(path: str, target_id: str) -> tuple[Step, ...]:
    steps = compile_path(path)
    if steps is None:
        # A third party's measurement on AWS (2026-09), for InputPath and InputPathsMap values alike.
        raise _validation(f"InputPath for target {target_id} is invalid.")
    return steps


def _path_input(input_path: str, target_id: str) -> TargetInput:
    steps = _compile_path_or_raise(input_path, target_id)

    def render(event: Mapping[str, Any], _arn: str, _name: str, _time: float) -> str:
        value = select(event, steps)
        if value is _MISSING:
            # UNVERIFIED: what AWS does when the InputPath is not in the event; here nothing is sent.
            raise InputTransformationError(f"InputPath {input_path} selects nothing in the event")
        return _compact(value)

    return TargetInput("input_path", render)


def _transformer_input(transformer: Mapping[str, Any], target_id: str) -> TargetInput:
    template: str = transformer["InputTemplate"]
    paths: Mapping[str, str] = transformer.get("InputPathsMap") or {}
    compiled = {key: _compile_path_or_raise(path, target_id) for key, path in paths.items()}
    is_json = template.lstrip().startswith("{")
    segments = parse_template(template, is_json)
    _check_placeholders(segments, compiled, is_json, target_id)
    if is_json:
        _check_json_template(template, segments, target_id)
    return TargetInput("input_transformer", _template_renderer(segments, compiled, is_json))


def _check_placeholders(
    segments: Sequence[Segment], paths: Mapping[str, Any], is_json: bool, target_id: str
) -> None:
    for segment in segments:
        if not isinstance(segment, _Placeholder):
            continue
        if segment.name not in paths and segment.name not in RESERVED_VARIABLES:
            # Recorded on AWS (LocalStack snapshot).
            raise _validation(
                f"InputTemplate for target {target_id} contains invalid placeholder {segment.name}."
            )
        if segment.name in _JSON_TEMPLATE_ONLY and not is_json:
            # A third party's measurement on AWS (2026-09) for aws.events.event.json; UNVERIFIED
            # that aws.events.event is refused the same way.
            raise _validation(
                f"InputTemplate for target {target_id} contains placeholder {segment.name} "
                "valid only for JSON template."
            )


def _check_json_template(template: str, segments: Sequence[Segment], target_id: str) -> None:
    """A JSON template must be JSON once its placeholders hold values (so none may be a key)."""
    sample = "".join(
        segment if isinstance(segment, str) else ("" if segment.in_string else "null") for segment in segments
    )
    location = _json_error_location(sample)
    if location is not None:
        # UNVERIFIED: AWS's text for a JSON template that is not JSON.
        raise _validation(
            f"Invalid InputTemplate for target {target_id} : {_jackson_source(template, *location)}"
        )


def _template_renderer(
    segments: Sequence[Segment], paths: Mapping[str, tuple[Step, ...]], is_json: bool
) -> Renderer:
    parts = tuple(segments)

    def render(event: Mapping[str, Any], rule_arn: str, rule_name: str, ingestion_time: float) -> str:
        values = {key: select(event, steps) for key, steps in paths.items()}
        reserved = _reserved_values(event, rule_arn, rule_name, ingestion_time)
        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = values[part.name] if part.name in values else reserved(part.name)
            out.append(string_text(value) if part.in_string else json_value_text(value))
        text = "".join(out)
        if not is_json:
            return text
        if _json_error_location(text) is not None:
            raise InputTransformationError(f"the transformed input is not valid JSON: {text}")
        return minify(text)

    return render


def _reserved_values(
    event: Mapping[str, Any], rule_arn: str, rule_name: str, ingestion_time: float
) -> Callable[[str], Any]:
    def value(name: str) -> Any:
        if name == RULE_ARN:
            return rule_arn
        if name == RULE_NAME:
            return rule_name
        if name == INGESTION_TIME:
            # UNVERIFIED: AWS's precision for the ingestion time; second precision like "time".
            return iso_time(ingestion_time)
        if name == EVENT:
            return event_variable(event, iso_time(ingestion_time))
        return event  # EVENT_JSON

    return value
