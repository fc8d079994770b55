"""The ``rulebus`` command: exit codes, AWS's messages, @files, rules directories, gzip, stdin."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rulebus
from click.testing import CliRunner, Result
from rich.console import Console
from rulebus.cli import cli, print_explanation

PATTERN = '{"source": ["com.shop"], "detail": {"amount": [{"numeric": [">", 100]}]}}'
MATCHING = '{"source": "com.shop", "detail": {"amount": 120}}'
NOT_MATCHING = '{"source": "com.shop", "detail": {"amount": 50}}'
ENVELOPE = {
    "id": "1",
    "account": "123456789012",
    "source": "com.shop",
    "time": "2026-11-28T00:00:00Z",
    "region": "eu-west-1",
    "resources": [],
    "detail-type": "Order Placed",
}

RULES = {
    "big": {"detail": {"amount": [{"numeric": [">", 100]}]}},
    "shop": {"source": ["com.shop"]},
    "never": {"source": ["com.nowhere"]},
}
EVENTS: list[dict[str, Any]] = [
    {"source": "com.shop", "detail": {"amount": 120}},
    {"source": "com.shop", "detail": {"amount": 5}},
    {"source": "com.other", "detail": {"amount": 500}},
    {"source": "com.other"},
]
EXPECTED = [["big", "shop"], ["shop"], ["big"], []]



def invoke(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def aws_message(pattern: str) -> str:
    with pytest.raises(rulebus.InvalidPatternError) as caught:
        rulebus.Pattern(pattern)
    return str(caught.value)


def jsonl(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def output_rules(result: Result) -> list[list[str]]:
    return [sorted(json.loads(line)) for line in result.stdout.splitlines()]


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES))
    return path


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(jsonl(EVENTS))
    return path


# --- test-pattern ---------------------------------------------------------------------------------


def test_match_prints_true_and_exits_0() -> None:
    result = invoke("test-pattern", PATTERN, MATCHING)
    assert result.exit_code == 0
    assert result.stdout == "true\n"


def test_no_match_prints_false_and_exits_1() -> None:
    result = invoke("test-pattern", PATTERN, NOT_MATCHING)
    assert result.exit_code == 1
    assert result.stdout == "false\n"


@pytest.mark.parametrize(
    "pattern",
    ['{"source": "com.shop"}', '{"detail": {"amount": [{"numeric": [">", "x"]}]}}', "{", "[]"],
)
def test_invalid_pattern_prints_aws_message_and_exits_2(pattern: str) -> None:
    result = invoke("test-pattern", pattern, MATCHING)
    assert result.exit_code == 2
    message = aws_message(pattern)
    assert message.startswith("Event pattern is not valid.")
    assert message in result.output
    assert "true" not in result.stdout and "false" not in result.stdout


@pytest.mark.parametrize("event", ["{", "[1, 2]", '"text"'])
def test_invalid_event_exits_2(event: str) -> None:
    result = invoke("test-pattern", PATTERN, event)
    assert result.exit_code == 2
    with pytest.raises(rulebus.InvalidEventError) as caught:
        rulebus.Pattern(PATTERN).matches(event)
    assert str(caught.value) in result.output


def test_at_file_arguments(tmp_path: Path) -> None:
    (tmp_path / "pattern.json").write_text(PATTERN)
    (tmp_path / "yes.json").write_bytes(MATCHING.encode())
    (tmp_path / "no.json").write_text(NOT_MATCHING)
    assert invoke("test-pattern", f"@{tmp_path / 'pattern.json'}", f"@{tmp_path / 'yes.json'}").exit_code == 0
    assert invoke("test-pattern", f"@{tmp_path / 'pattern.json'}", f"@{tmp_path / 'no.json'}").exit_code == 1
    # Text and a file mix.
    assert invoke("test-pattern", PATTERN, f"@{tmp_path / 'yes.json'}").exit_code == 0


def test_at_stdin() -> None:
    result = invoke("test-pattern", PATTERN, "@-", input=MATCHING)
    assert (result.exit_code, result.stdout) == (0, "true\n")


def test_missing_at_file_exits_2(tmp_path: Path) -> None:
    result = invoke("test-pattern", f"@{tmp_path / 'absent.json'}", MATCHING)
    assert result.exit_code == 2
    assert "cannot read the pattern" in result.output


def test_envelope_requires_the_envelope_fields() -> None:
    pattern = '{"source": ["com.shop"]}'
    bare = '{"source": "com.shop"}'
    assert invoke("test-pattern", pattern, bare).exit_code == 0  # plain matching needs no envelope
    result = invoke("test-pattern", "--envelope", pattern, bare)
    assert result.exit_code == 2
    assert "Parameter Event is not valid." in result.output
    assert invoke("test-pattern", "--envelope", pattern, json.dumps(ENVELOPE)).exit_code == 0
    other = {**ENVELOPE, "source": "com.other"}
    result = invoke("test-pattern", "--envelope", pattern, json.dumps(other))
    assert (result.exit_code, result.stdout) == (1, "false\n")


def test_envelope_checks_the_pattern_first() -> None:
    result = invoke("test-pattern", "--envelope", '{"source": "x"}', "{}")
    assert result.exit_code == 2
    assert aws_message('{"source": "x"}') in result.output


def test_explain_names_the_failing_condition() -> None:
    result = invoke("test-pattern", "--explain", PATTERN, NOT_MATCHING)
    assert result.exit_code == 1
    assert result.stdout.startswith("false\n")
    assert "detail.amount" in result.stdout
    assert "50" in result.stdout


def test_explain_says_absent_for_a_missing_field() -> None:
    result = invoke("test-pattern", "--explain", PATTERN, '{"source": "com.shop"}')
    assert result.exit_code == 1
    assert "(absent)" in result.stdout


def test_explain_output_through_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command prints every field of what ``Pattern.explain`` returns (a stand-in here, so
    that the table's layout is checked apart from the engine's wording)."""
    reasons = [
        {"branch": 0, "path": "detail.amount", "operator": "numeric", "expected": [">", 100], "actual": [50],
         "message": "50 is not > 100"},
    ]  # fmt: skip
    real = rulebus.Pattern

    class Explaining:
        def __init__(self, pattern: Any) -> None:
            self.inner = real(pattern)

        def matches(self, event: Any) -> bool:
            return self.inner.matches(event)

        def explain(self, event: Any) -> list[dict[str, Any]]:
            return reasons

    monkeypatch.setattr(rulebus, "Pattern", Explaining)
    result = invoke("test-pattern", "--explain", PATTERN, NOT_MATCHING)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "false"
    assert "path" in lines[1] and "why" in lines[1]
    assert "detail.amount" in lines[2] and "50 is not > 100" in lines[2]
    assert "$or branch" not in result.stdout  # one branch: no column for it


def test_explain_prints_nothing_more_on_a_match() -> None:
    result = invoke("test-pattern", "--explain", PATTERN, MATCHING)
    assert (result.exit_code, result.stdout) == (0, "true\n")


def test_explanation_table() -> None:
    console = Console(width=200, record=True)
    reasons = [
        {
            "branch": 0,
            "path": "detail.amount",
            "operator": "numeric",
            "expected": [">", 100],
            "actual": [50],
            "message": "50 is not greater than 100",
        },
        {
            "branch": 1,
            "path": "detail.tier",
            "operator": "exact",
            "expected": ["gold"],
            "actual": [],
            "message": "the event has no detail.tier",
        },
    ]
    with console.capture() as captured:
        print_explanation(console, reasons)
    text = captured.get()
    for needle in (
        "detail.amount",
        "numeric",
        '[">", 100]',
        "[50]",
        "50 is not greater than 100",
        "(absent)",
    ):
        assert needle in text
    assert "$or branch" in text  # several branches: say which


# --- test-pattern: files as the AWS CLI names them ----------------------------------------------


def test_file_url_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pattern.json").write_text(PATTERN)
    (tmp_path / "yes.json").write_text(MATCHING)
    (tmp_path / "no.json").write_text(NOT_MATCHING)
    absolute = f"file://{tmp_path / 'pattern.json'}"  # file:///tmp/...
    assert invoke("test-pattern", absolute, f"file://{tmp_path / 'yes.json'}").exit_code == 0
    result = invoke("test-pattern", absolute, f"file://{tmp_path / 'no.json'}")
    assert (result.exit_code, result.stdout) == (1, "false\n")
    monkeypatch.chdir(tmp_path)
    assert invoke("test-pattern", "file://pattern.json", "@yes.json").exit_code == 0  # relative, mixed


@pytest.mark.parametrize(("position", "what"), [(0, "pattern"), (1, "event")])
def test_missing_file_url_exits_2(tmp_path: Path, position: int, what: str) -> None:
    args = [PATTERN, MATCHING]
    args[position] = f"file://{tmp_path / 'absent.json'}"
    result = invoke("test-pattern", *args)
    assert result.exit_code == 2
    assert f"cannot read the {what} 'file://{tmp_path / 'absent.json'}': No such file" in result.output
    assert result.stdout == ""


# --- test-pattern --sns ---------------------------------------------------------------------------

POLICY = '{"color": ["blue"], "size": [{"numeric": [">", 10]}]}'
BODY_POLICY = '{"order": {"color": ["blue"]}}'


def attributes(form: str, **values: tuple[str, str]) -> str:
    """Message attributes as SNS's Publish takes them ("publish") or a notification carries them."""
    if form == "publish":
        return json.dumps({n: {"DataType": t, "StringValue": v} for n, (t, v) in values.items()})
    return json.dumps({n: {"Type": t, "Value": v} for n, (t, v) in values.items()})


@pytest.mark.parametrize("form", ["publish", "notification"])
def test_sns_message_attributes(form: str) -> None:
    yes = attributes(form, color=("String", "blue"), size=("Number", "12"))
    result = invoke("test-pattern", "--sns", POLICY, yes)
    assert (result.exit_code, result.stdout) == (0, "true\n")
    no = attributes(form, color=("String", "blue"), size=("Number", "9"))
    result = invoke("test-pattern", "--sns", POLICY, no)
    assert (result.exit_code, result.stdout) == (1, "false\n")
    # The default scope is MessageAttributes: explicitly the same answers.
    assert invoke("test-pattern", "--sns", "--scope", "MessageAttributes", POLICY, yes).exit_code == 0


def test_sns_string_array_attribute() -> None:
    policy = '{"color": ["blue"]}'
    many = attributes("publish", color=("String.Array", '["red", "blue"]'))
    assert invoke("test-pattern", "--sns", policy, many).exit_code == 0
    none = attributes("notification", color=("String.Array", '["red", "green"]'))
    assert invoke("test-pattern", "--sns", policy, none).exit_code == 1


def test_sns_attributes_are_not_the_body() -> None:
    """MessageAttributes scope: a body-shaped message has no attributes to match."""
    result = invoke("test-pattern", "--sns", '{"color": ["blue"]}', '{"color": "blue"}')
    assert result.exit_code == 2
    assert "The message attributes are not valid" in result.output
    assert invoke("test-pattern", "--sns", '{"color": ["blue"]}', "{}").exit_code == 1


def test_sns_message_body_scope() -> None:
    yes = '{"order": {"color": "blue"}}'
    no = '{"order": {"color": "red"}}'
    result = invoke("test-pattern", "--sns", "--scope", "MessageBody", BODY_POLICY, yes)
    assert (result.exit_code, result.stdout) == (0, "true\n")
    result = invoke("test-pattern", "--sns", "--scope", "MessageBody", BODY_POLICY, no)
    assert (result.exit_code, result.stdout) == (1, "false\n")
    # A body that is not JSON is not delivered to a body policy: no match, not an error.
    result = invoke("test-pattern", "--sns", "--scope", "MessageBody", BODY_POLICY, "plain text")
    assert (result.exit_code, result.stdout) == (1, "false\n")


def sns_message(policy: str, scope: str = "MessageAttributes") -> str:
    with pytest.raises(rulebus.InvalidFilterPolicyError) as caught:
        rulebus.FilterPolicy(policy, scope)  # type: ignore[arg-type]
    return str(caught.value)


@pytest.mark.parametrize(
    "policy", ['{"color": "blue"}', "{", "[]", BODY_POLICY, '{"a": [{"numeric": [">", "x"]}]}']
)
def test_sns_invalid_policy_prints_sns_message_and_exits_2(policy: str) -> None:
    result = invoke("test-pattern", "--sns", policy, "{}")
    assert result.exit_code == 2
    message = sns_message(policy)
    assert message.startswith("Invalid parameter: ")
    assert message in result.output
    assert result.stdout == ""


def test_sns_invalid_scope_prints_sns_message() -> None:
    result = invoke("test-pattern", "--sns", "--scope", "Body", POLICY, "{}")
    assert result.exit_code == 2
    assert "Invalid parameter: FilterPolicyScope: Invalid value [Body]" in result.output


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ("{", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        ('{"color": {"Value": "blue"}}', "needs a Type"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_sns_invalid_attributes_exit_2(message: str, why: str) -> None:
    result = invoke("test-pattern", "--sns", POLICY, message)
    assert result.exit_code == 2
    assert why in result.output
    assert result.stdout == ""


def test_sns_files(tmp_path: Path) -> None:
    (tmp_path / "policy.json").write_text(BODY_POLICY)
    (tmp_path / "body.json").write_text('{"order": {"color": "blue"}}')
    result = invoke(
        "test-pattern", "--sns", "--scope", "MessageBody",
        f"file://{tmp_path / 'policy.json'}", f"@{tmp_path / 'body.json'}",
    )  # fmt: skip
    assert (result.exit_code, result.stdout) == (0, "true\n")
    result = invoke("test-pattern", "--sns", f"file://{tmp_path / 'absent.json'}", "{}")
    assert result.exit_code == 2
    assert "cannot read the filter policy" in result.output
    result = invoke("test-pattern", "--sns", POLICY, f"file://{tmp_path / 'absent.json'}")
    assert result.exit_code == 2
    assert "cannot read the message" in result.output


def test_sns_explain_names_the_failing_attribute() -> None:
    no = attributes("publish", color=("String", "blue"), size=("Number", "9"))
    result = invoke("test-pattern", "--sns", "--explain", POLICY, no)
    assert result.exit_code == 1
    assert result.stdout.startswith("false\n")
    assert 'size is 9, which does not match {"numeric":[">",10]}' in " ".join(result.stdout.split())
    assert "color" not in result.stdout  # the condition that holds is not listed
    yes = attributes("publish", color=("String", "blue"), size=("Number", "12"))
    result = invoke("test-pattern", "--sns", "--explain", POLICY, yes)
    assert (result.exit_code, result.stdout) == (0, "true\n")


def test_sns_explain_says_absent_and_hints_at_a_number_given_as_text() -> None:
    result = invoke("test-pattern", "--sns", "--explain", '{"size": ["10"]}', attributes("publish"))
    assert result.exit_code == 1
    assert "absent from the message's attributes" in " ".join(result.stdout.split())
    typed = attributes("publish", size=("Number", "10"))
    result = invoke("test-pattern", "--sns", "--explain", '{"size": ["10"]}', typed)
    assert result.exit_code == 1
    assert "hint: size:" in result.stdout


def test_sns_explain_on_the_body() -> None:
    body = '{"order": {"color": "red"}}'
    result = invoke("test-pattern", "--sns", "--scope", "MessageBody", "--explain", BODY_POLICY, body)
    assert result.exit_code == 1
    assert 'order.color is "red", which does not match "blue"' in " ".join(result.stdout.split())
    result = invoke("test-pattern", "--sns", "--scope", "MessageBody", "--explain", BODY_POLICY, "plain text")
    assert result.exit_code == 1
    assert "not a JSON object" in " ".join(result.stdout.split())


def test_sns_explain_hints_at_a_refused_policy() -> None:
    policy = '{"size": {"numeric": [">", 10]}}'
    plain = invoke("test-pattern", "--sns", policy, "{}")
    result = invoke("test-pattern", "--sns", "--explain", policy, "{}")
    assert plain.exit_code == result.exit_code == 2
    assert "hint:" not in plain.output
    assert result.output.startswith(sns_message(policy))
    assert 'hint: size: an operator must be inside a list: write "size": [{"numeric": [">", 10]}]' in (
        result.output
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--scope", "MessageBody"], "--scope is only used with --sns"),
        (["--sns", "--envelope"], "not used with --sns"),
    ],
)
def test_options_that_do_not_go_together(options: list[str], message: str) -> None:
    result = invoke("test-pattern", *options, '{"source": ["a"]}', "{}")
    assert result.exit_code == 2
    assert message in result.output


# --- test-pattern --explain: hints at common mistakes ---------------------------------------------

HINT_CASES = [
    # (pattern, event, the hint's start)
    ('{"price": {"numeric": [">", 1]}}', '{"price": 5}', "hint: price: an operator must be inside a list"),
    ('{"price": ["5"]}', '{"price": 5}', 'hint: price: the pattern has the string "5"'),
    ('{"price": [5]}', '{"price": "5"}', "hint: price: the pattern has the number 5"),
    ('{"Detail": {"type": ["a"]}}', '{"detail": {"type": "a"}}', "hint: Detail: the event spells this key"),
]


@pytest.mark.parametrize(("pattern", "event", "hint"), HINT_CASES)
def test_explain_hints_after_the_explanation(pattern: str, event: str, hint: str) -> None:
    plain = invoke("test-pattern", pattern, event)
    result = invoke("test-pattern", "--explain", pattern, event)
    assert (plain.exit_code, plain.stdout) == (1, "false\n")  # what matches is unchanged
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "false"
    assert "path" in lines[1]  # the explanation's table, then the hint
    assert lines[-1].startswith(hint)
    assert sum(line.startswith("hint:") for line in lines) == 1


@pytest.mark.parametrize(
    ("pattern", "event"),
    [
        ('{"price": [{"numeric": [">", 1]}]}', '{"price": 0}'),
        ('{"price": ["5"]}', '{"price": "6"}'),
        ('{"price": [5]}', '{"price": 6}'),
        ('{"detail": {"type": ["a"]}}', '{"detail": {"type": "b"}}'),
    ],
)
def test_explain_no_hint_without_a_mistake(pattern: str, event: str) -> None:
    result = invoke("test-pattern", "--explain", pattern, event)
    assert result.exit_code == 1
    assert "path" in result.stdout
    assert "hint:" not in result.output


def test_hints_only_with_explain_and_only_on_no_match() -> None:
    pattern, event = HINT_CASES[1][:2]
    assert "hint:" not in invoke("test-pattern", pattern, event).output
    # Matching despite the mix-up elsewhere: nothing is explained, nothing hinted.
    pattern = '{"$or": [{"price": ["5"]}, {"a": ["b"]}]}'
    result = invoke("test-pattern", "--explain", pattern, '{"price": 5, "a": "b"}')
    assert (result.exit_code, result.stdout) == (0, "true\n")


def test_explain_hint_goes_with_a_refused_pattern() -> None:
    """An operator outside a list that the engine refuses: AWS's message, then the hint; still 2."""
    pattern = '{"price": {"prefix": "a"}}'
    plain = invoke("test-pattern", pattern, "{}")
    result = invoke("test-pattern", "--explain", pattern, "{}")
    assert plain.exit_code == result.exit_code == 2
    assert "hint:" not in plain.output
    assert result.output.startswith(aws_message(pattern))
    assert result.output.splitlines()[-1] == (
        'hint: price: an operator must be inside a list: write "price": [{"prefix": "a"}] '
        'instead of "price": {"prefix": "a"}'
    )
    assert result.stdout == ""


def test_explain_refused_pattern_without_the_mistake_has_no_hint() -> None:
    result = invoke("test-pattern", "--explain", '{"source": "com.shop"}', "{}")
    assert result.exit_code == 2
    assert "hint:" not in result.output


# --- match ----------------------------------------------------------------------------------------


def test_match_prints_each_events_rules(rules_file: Path, events_file: Path) -> None:
    result = invoke("match", str(rules_file), str(events_file))
    assert result.exit_code == 0, result.output
    assert output_rules(result) == EXPECTED


def test_match_rules_directory(tmp_path: Path, events_file: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    for name, pattern in RULES.items():
        (folder / f"{name}.json").write_text(json.dumps(pattern))
    (folder / "README.txt").write_text("not a rule")
    result = invoke("match", str(folder), str(events_file))
    assert result.exit_code == 0, result.output
    assert output_rules(result) == EXPECTED


def test_match_gzip_events_by_magic_bytes(tmp_path: Path, rules_file: Path) -> None:
    path = tmp_path / "events.jsonl"  # no .gz suffix: the magic bytes tell
    path.write_bytes(gzip.compress(jsonl(EVENTS).encode()))
    result = invoke("match", str(rules_file), str(path))
    assert result.exit_code == 0, result.output
    assert output_rules(result) == EXPECTED


def test_match_stdin(rules_file: Path) -> None:
    result = invoke("match", str(rules_file), input=jsonl(EVENTS))
    assert result.exit_code == 0, result.output
    assert output_rules(result) == EXPECTED
    dash = invoke("match", str(rules_file), "-", input=gzip.compress(jsonl(EVENTS).encode()))
    assert output_rules(dash) == EXPECTED


def test_match_skips_blank_lines(rules_file: Path) -> None:
    text = "\n" + jsonl(EVENTS[:2]).replace("\n", "\r\n\n") + "   \n"
    result = invoke("match", str(rules_file), input=text)
    assert output_rules(result) == EXPECTED[:2]


def test_match_small_chunks_give_the_same_answer(rules_file: Path) -> None:
    many = EVENTS * 25
    result = invoke("match", str(rules_file), "--chunk-size", "3", input=jsonl(many))
    assert output_rules(result) == EXPECTED * 25


def test_match_count_table(rules_file: Path, events_file: Path) -> None:
    result = invoke("match", "--count", str(rules_file), str(events_file))
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines() if line.split()}
    assert rows["big"] == "2" and rows["shop"] == "2" and rows["never"] == "0"
    assert "4 events" in result.stdout


def test_match_count_json(rules_file: Path, events_file: Path) -> None:
    result = invoke("match", "--count", "--json", str(rules_file), str(events_file))
    assert json.loads(result.stdout) == {"events": 4, "matches": {"big": 2, "shop": 2, "never": 0}}


def test_match_patterns_as_json_text(tmp_path: Path, events_file: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({name: json.dumps(p) for name, p in RULES.items()}))
    assert output_rules(invoke("match", str(path), str(events_file))) == EXPECTED


def test_match_invalid_rule_exits_2(tmp_path: Path, events_file: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"good": {"source": ["a"]}, "bad": {"source": "a"}}))
    result = invoke("match", str(path), str(events_file))
    assert result.exit_code == 2
    assert "'bad'" in result.output
    assert aws_message('{"source": "a"}') in result.output


@pytest.mark.parametrize("content", ["[1, 2]", "{not json"])
def test_match_rules_file_not_an_object_exits_2(tmp_path: Path, events_file: Path, content: str) -> None:
    path = tmp_path / "rules.json"
    path.write_text(content)
    assert invoke("match", str(path), str(events_file)).exit_code == 2


def test_match_invalid_event_names_the_line(rules_file: Path) -> None:
    text = jsonl(EVENTS[:2]) + "\n" + '{"source": \n' + jsonl(EVENTS[2:])
    result = invoke("match", str(rules_file), input=text)
    assert result.exit_code == 2
    assert "line 4:" in result.output
    assert "Event is not valid" in result.output
    assert output_rules(result) == EXPECTED[:2]  # what came before the bad line was printed


def test_match_missing_events_file(rules_file: Path, tmp_path: Path) -> None:
    result = invoke("match", str(rules_file), str(tmp_path / "absent.jsonl"))
    assert result.exit_code == 2


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert rulebus.__version__ in result.stdout


def test_as_a_process_with_a_pipe(rules_file: Path) -> None:
    """The real standard streams: gzip bytes piped in, exit codes out."""
    done = subprocess.run(
        [sys.executable, "-m", "rulebus.cli", "match", str(rules_file)],
        input=gzip.compress(jsonl(EVENTS).encode()),
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [sorted(json.loads(line)) for line in done.stdout.splitlines()] == EXPECTED
    done = subprocess.run(
        [sys.executable, "-m", "rulebus.cli", "test-pattern", '{"a": 1}', "{}"],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 2
    assert aws_message('{"a": 1}') in done.stderr.decode()
