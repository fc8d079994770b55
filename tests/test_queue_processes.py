"""Several processes on one SQLite file (docs/semantics.md, 'Stores: memory and
SQLite'): real time, real processes.

* A sender process and a receiver process share a queue: 10,000 messages sent in batches of 10 are
  each received once and deleted (the visibility timeout, 300 s, is long enough that no message
  may legitimately come back, so any second delivery is a bug).
* A sender killed with SIGKILL mid-stream loses no message it had acknowledged: a fresh broker
  on the file receives every id the child printed.

No assertion is about how long anything took; every wait has a timeout so a hang fails the test.
"""

from __future__ import annotations

import json
import os
import queue as queue_module
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from rulebus import Broker

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

ROOT = Path(__file__).resolve().parent.parent
TOTAL = 10_000
PROCESS_TIMEOUT = 120.0  # a hang fails instead of blocking forever

SENDER = textwrap.dedent(
    """
    import json, sys
    from rulebus import Broker

    path, out, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ids = []
    failed = []
    with Broker(path) as broker:
        queue = broker.queue("work", visibility_timeout=300)
        for start in range(0, total, 10):
            entries = [{"Id": f"e{n}", "MessageBody": f"m{start + n}"} for n in range(10)]
            result = queue.send_batch(entries)
            failed.extend(result["Failed"])
            ids.extend(s["MessageId"] for s in result["Successful"])
    with open(out, "w") as f:
        json.dump({"ids": ids, "failed": failed}, f)
    """
)

RECEIVER = textwrap.dedent(
    """
    import json, sys, time
    from rulebus import Broker

    path, out, total, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    received = []  # every delivery, in order: (message id, body)
    failed_deletes = []
    deadline = time.monotonic() + budget
    with Broker(path) as broker:
        queue = broker.queue("work", visibility_timeout=300)
        seen = set()
        while len(seen) < total and time.monotonic() < deadline:
            messages = queue.receive(max_messages=10, wait_seconds=1, visibility_timeout=300)
            if not messages:
                continue
            for m in messages:
                received.append([m.message_id, m.body])
                seen.add(m.message_id)
            result = queue.delete_batch(
                [{"Id": f"d{n}", "ReceiptHandle": m.receipt_handle} for n, m in enumerate(messages)]
            )
            failed_deletes.extend(result["Failed"])
        counts = queue.get_attributes(
            ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )
    with open(out, "w") as f:
        json.dump({"received": received, "failed_deletes": failed_deletes, "counts": counts}, f)
    """
)

KILLED_SENDER = textwrap.dedent(
    """
    import sys
    from rulebus import Broker

    broker = Broker(sys.argv[1])
    queue = broker.queue("stream")
    n = 0
    while True:  # until killed
        result = queue.send(f"m{n}")
        sys.stdout.write(result.message_id + "\\n")
        sys.stdout.flush()
        n += 1
    """
)


def _python(script: str, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", script, *args], cwd=ROOT, env=env, text=True, **kwargs
    )


def _finish(process: subprocess.Popen[str], name: str) -> None:
    try:
        process.wait(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"the {name} process hung")
    assert process.returncode == 0, f"the {name} process failed with {process.returncode}"


def test_one_sender_one_receiver_share_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rulebus.db"
    with Broker(path) as broker:  # create the queue first, so both processes find it
        broker.queue("work", visibility_timeout=300)
    sent_file, received_file = tmp_path / "sent.json", tmp_path / "received.json"
    receiver = _python(RECEIVER, str(path), str(received_file), str(TOTAL), str(PROCESS_TIMEOUT - 20))
    sender = _python(SENDER, str(path), str(sent_file), str(TOTAL))
    _finish(sender, "sender")
    _finish(receiver, "receiver")

    sent = json.loads(sent_file.read_text())
    outcome = json.loads(received_file.read_text())
    assert sent["failed"] == []
    assert len(sent["ids"]) == len(set(sent["ids"])) == TOTAL

    received_ids = [message_id for message_id, _ in outcome["received"]]
    repeated = [message_id for message_id, n in _counter(received_ids).items() if n > 1]
    # None may come back: no visibility timeout (300 s) can have expired in this test.
    assert repeated == [], f"{len(repeated)} messages delivered twice while in flight"
    assert outcome["failed_deletes"] == []
    assert set(received_ids) == set(sent["ids"]), (
        f"{len(set(sent['ids']) - set(received_ids))} sent messages never received"
    )
    bodies = {message_id: body for message_id, body in outcome["received"]}
    assert sorted(bodies.values()) == sorted(f"m{n}" for n in range(TOTAL))
    assert outcome["counts"] == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }

    with Broker(path) as broker:  # and the file agrees after both are gone
        attributes = broker.queue("work").attributes
        assert attributes["ApproximateNumberOfMessages"] == "0"
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def _counter(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def test_sigkill_mid_stream_loses_no_acknowledged_message(tmp_path: Path) -> None:
    path = tmp_path / "rulebus.db"
    child = _python(KILLED_SENDER, str(path), stdout=subprocess.PIPE)
    assert child.stdout is not None
    lines: queue_module.Queue[str | None] = queue_module.Queue()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    acknowledged: list[str] = []
    try:
        while len(acknowledged) < 1000:
            try:
                line = lines.get(timeout=PROCESS_TIMEOUT / 2)
            except queue_module.Empty:
                pytest.fail("the child acknowledged nothing for a long time")
            if line is None:
                pytest.fail(f"the child exited early with {child.wait(timeout=10)}")
            acknowledged.append(line.strip())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=PROCESS_TIMEOUT)
    assert child.returncode == -signal.SIGKILL
    # Whatever it printed before dying was acknowledged too: read the pipe to its end.
    reader.join(timeout=PROCESS_TIMEOUT)
    assert not reader.is_alive(), "the pipe never closed"
    while True:
        line = lines.get_nowait()
        if line is None:
            break
        if line.endswith("\n"):  # a line cut by the kill was not acknowledged
            acknowledged.append(line.strip())
    assert len(acknowledged) == len(set(acknowledged))

    received: list[str] = []
    with Broker(path) as broker:
        queue = broker.queue("stream")
        while True:
            messages = queue.receive(max_messages=10, wait_seconds=0, visibility_timeout=300)
            if not messages:
                break
            received.extend(m.message_id for m in messages)
        assert queue.attributes["ApproximateNumberOfMessages"] == "0"
    missing = set(acknowledged) - set(received)
    assert not missing, f"{len(missing)} acknowledged messages lost by the kill"
    assert len(received) == len(set(received))
    # At most the one message committed after the last line the child managed to print.
    assert len(set(received) - set(acknowledged)) <= 1
