"""``function_pool="processes"``: handlers in child processes (docs/functions.md, "Where it
runs"). A handler past its timeout is really stopped (its child is gone, the invocation fails
with Lambda's "Task timed out after N.NN seconds"), a child that dies fails only its batch, and
a handler a child cannot import is refused when it is registered. Real processes; no assertion
is about how long anything took."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import function_handlers
from rulebus import Broker
from rulebus.functions.process_pool import HandlerNotImportable

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")


@pytest.fixture
def broker() -> Iterator[Broker]:
    broker = Broker(background_functions=False, function_pool="processes", function_workers=2)
    yield broker
    broker.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _order(folder: Path, ident: str, action: str) -> str:
    return json.dumps({"id": ident, "do": action, "dir": str(folder)})


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": str(index), "body": body} for index, body in enumerate(bodies)]}


def test_a_handler_runs_in_a_child_process(broker: Broker) -> None:
    function = broker.function("echo", function_handlers.echo)
    invocation = function.run({"n": 1})
    assert invocation.error is None
    assert invocation.result["event"] == {"n": 1}
    assert invocation.result["function"] == "echo"
    assert invocation.result["pid"] != os.getpid()
    # The child stays for the next invocation.
    assert function.run({"n": 2}).result["pid"] == invocation.result["pid"]


def test_a_handler_past_its_timeout_is_stopped(broker: Broker, tmp_path: Path) -> None:
    function = broker.function("act", function_handlers.act, timeout=2)
    invocation = function.run(_sqs_event(_order(tmp_path, "slow", "hang")))
    assert invocation.error == ("Sandbox.Timedout", "Task timed out after 2.00 seconds")
    pid = int((tmp_path / "slow.pid").read_text())
    assert not _alive(pid)  # killed and reaped, not left running
    # A new child takes its place.
    assert function.run(_sqs_event(_order(tmp_path, "next", "ok"))).error is None
    assert (tmp_path / "next.done").exists()
    assert int((tmp_path / "next.pid").read_text()) != pid


@pytest.mark.parametrize(
    ("action", "message"), [("exit", "exit status 7"), ("segfault", "signal: segmentation fault")]
)
def test_a_child_that_dies_fails_its_invocation(
    broker: Broker, tmp_path: Path, action: str, message: str
) -> None:
    function = broker.function("act", function_handlers.act)
    invocation = function.run(_sqs_event(_order(tmp_path, "crash", action)))
    assert invocation.error is not None
    assert invocation.error[0] == "Runtime.ExitError"
    assert invocation.error[1] == (
        f"RequestId: {invocation.request_id} Error: Runtime exited with error: {message}"
    )
    assert function.run(_sqs_event(_order(tmp_path, "after", "ok"))).error is None


def test_a_handler_error_crosses_with_its_type_and_message(broker: Broker, tmp_path: Path) -> None:
    function = broker.function("act", function_handlers.act)
    invocation = function.run(_sqs_event(_order(tmp_path, "bad", "raise")))
    assert invocation.error == ("RuntimeError", "told to fail: bad")


def test_a_crash_fails_only_its_batch(broker: Broker, tmp_path: Path) -> None:
    jobs = broker.queue("jobs", visibility_timeout=300)
    broker.function("act", function_handlers.act, timeout=2)
    broker.create_event_source_mapping(function_name="act", event_source_arn=jobs.arn, batch_size=1)
    jobs.send(_order(tmp_path, "a", "ok"))
    jobs.send(_order(tmp_path, "b", "exit"))
    jobs.send(_order(tmp_path, "c", "hang"))
    jobs.send(_order(tmp_path, "d", "ok"))
    broker.run_functions()
    assert (tmp_path / "a.done").exists() and (tmp_path / "d.done").exists()
    assert not (tmp_path / "b.done").exists() and not (tmp_path / "c.done").exists()
    # The two failed batches are in flight (back after the visibility timeout), not deleted.
    counts = jobs.get_attributes(["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "2"}


def test_a_handler_a_child_cannot_import_is_refused(broker: Broker) -> None:
    with pytest.raises(HandlerNotImportable, match="importable by module path"):
        broker.function("anonymous", lambda event, context: None)

    def local(event: Any, context: Any) -> None:
        return None

    with pytest.raises(HandlerNotImportable, match="local"):
        broker.function("local", local)
    assert [function.name for function in broker.functions()] == []


def test_function_pool_is_checked() -> None:
    with pytest.raises(ValueError, match="function_pool must be one of 'threads', 'processes'"):
        Broker(function_pool="fibers")
