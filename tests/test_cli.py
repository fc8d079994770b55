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
