"""examples/aws_lesson/: every snippet, unchanged, prints what AWS would make it print, both in
process (``python -m rulebus.aws.run script.py``, as the lesson's README says) and against
``rulebus serve`` (``AWS_ENDPOINT_URL`` pointing boto3 at the real server)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from helpers.aws_server import RunningServer

LESSON = Path(__file__).resolve().parent.parent / "examples" / "aws_lesson"

EXPECTED = {
    "sqs_basics": ["sent 1 + 3 messages", "handled orders: [1, 2, 3, 4]", "left in the queue: 0"],
    "sns_fanout": ["all-orders: ['o-1', 'o-2', 'o-3']", "big-orders: ['o-2']"],
    "eventbridge_rule": ["failed entries: 0", "shipping got: Order Paid o-1"],
    "fifo_groups": [
        "alice -> ['alice: open', 'alice: deposit 10', 'alice: withdraw 5']",
        "bob -> ['bob: open', 'bob: open']",
    ],
    "dead_letter_queue": [
        "attempt 1: processing failed (receive count 1)",
        "attempt 2: processing failed (receive count 2)",
        "attempt 3: processing failed (receive count 3)",
        "attempt 4: nothing left in orders",
        "dead-letter queue holds: ['poison pill']",
        "its source queues: True",
    ],
    "visibility_timeout": [
        "worker A took: ['monthly report', 'weekly report']",
        "worker B sees: 0 messages",
        "worker B took: weekly report receive count 2",
        "visible: 0 in flight: 0",
    ],
    "kinesis_stream": ["put 6 records", "read users: ['u-0', 'u-1', 'u-2', 'u-3', 'u-4', 'u-5']"],
}

_AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


def test_every_snippet_is_checked_and_none_imports_rulebus() -> None:
    scripts = sorted(path.stem for path in LESSON.glob("*.py"))
    assert scripts == sorted(EXPECTED)
    for name in scripts:
        source = (LESSON / f"{name}.py").read_text()
        assert "rulebus" not in source  # plain boto3, as a tutorial writes it
        assert "endpoint_url" not in source
        assert "def main()" in source


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_snippet_runs_under_mock_aws(name: str) -> None:
    environment = {key: value for key, value in os.environ.items() if key not in _AWS_VARIABLES}
    # No credentials file either: the runner must supply fake credentials and a region.
    environment["AWS_CONFIG_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    finished = subprocess.run(
        [sys.executable, "-m", "rulebus.aws.run", str(LESSON / f"{name}.py")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.splitlines() == EXPECTED[name]


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with RunningServer() as running:
        yield running


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_snippet_runs_against_rulebus_serve(
    name: str, server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with urllib.request.urlopen(
        urllib.request.Request(server.url + "/moto-api/reset", data=b"", method="POST"), timeout=30
    ):
        pass
    for variable in _AWS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a session that reads the variables above
    spec = importlib.util.spec_from_file_location(f"aws_lesson_{name}", LESSON / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        spec.loader.exec_module(module)
        module.main()
    assert printed.getvalue().splitlines() == EXPECTED[name]


def test_the_runner_passes_arguments_and_the_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rulebus.aws.run import main

    for variable in _AWS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    script = tmp_path / "script.py"
    script.write_text(
        "import sys, boto3\n"
        "if __name__ == '__main__':\n"
        "    url = boto3.client('sqs').create_queue(QueueName=sys.argv[1])['QueueUrl']\n"
        "    print(url)\n"
        "    sys.exit(3)\n"
    )
    argv = sys.argv[:]
    with pytest.raises(SystemExit) as exited:
        main(["--account", "123456789012", "--region", "eu-west-1", str(script), "named"])
    assert exited.value.code == 3
    assert capsys.readouterr().out == "https://sqs.eu-west-1.amazonaws.com/123456789012/named\n"
    assert sys.argv == argv
    assert "AWS_ACCESS_KEY_ID" not in os.environ  # the fake credentials were taken back
