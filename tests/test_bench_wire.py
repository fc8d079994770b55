"""The wire benchmark's harness (benches/compare_wire.py) on tiny counts: every workload goes
through rulebus (in process and over HTTP) and through the canned ceilings, the counts are checked,
and the JSON holds a figure per engine; moto's engines run when moto is installed. No timing is
asserted."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))

import compare_wire as bench
import wire_cases as cases

N = 20  # two batches of 10


def test_the_run_writes_a_checked_figure_for_every_engine(tmp_path: Path) -> None:
    output = tmp_path / "wire.json"
    argv = ["--messages", str(N), "--moto-messages", "10", "--repeat", "1", "--output", str(output)]
    assert bench.main(argv) == 0
    document = json.loads(output.read_text())
    assert document["problems"] == []
    engines = [
        "boto3 + canned answer (before-send hook)",
        "rulebus.mock_aws",
        "boto3 + canned answer (bare asyncio server)",
        "boto3 + canned answer (ASGI app on uvicorn)",
        "rulebus serve",
    ]
    if cases.moto_missing() is None:
        engines.append("moto.mock_aws")
        if cases.moto_server_missing() is None:
            engines.append("moto_server")
    keys = {f"{workload} | {engine}" for workload in cases.WORKLOADS for engine in engines}
    assert set(document["rates"]) == keys
    assert all(rate > 0 for rate in document["rates"].values())
    assert set(document["best"]) == keys
    for key in keys:
        assert document["counts"][key] == (10 if "moto" in key else N)


def test_the_table_gives_the_median_ratio_and_the_best_runs_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    # A warm-up round, then three repeats timed as given: the ceiling steady, rulebus slowed
    # once by "noise".
    timed = iter([1.0, 1.0, 100.0, 85.0, 100.0, 40.0, 100.0, 82.0])
    monkeypatch.setattr(bench, "run_once", lambda engine, workload, n: (next(timed, 1.0), None))
    engines = [
        bench.Engine("ceiling", bench.IN_PROCESS, "ceiling", _rulebus_clients),
        bench.Engine("rulebus", bench.IN_PROCESS, "rulebus", _rulebus_clients),
    ]
    figures = bench.Figures()
    bench.measure_engines(engines, ["sqs"], 10, 0, 3, figures)
    assert figures.rates == {"sqs | ceiling": 100.0, "sqs | rulebus": 82.0}
    assert figures.best == {"sqs | ceiling": 100.0, "sqs | rulebus": 85.0}
    row = bench.mode_table(figures, engines, bench.IN_PROCESS, ["sqs"]).splitlines()[-1]
    assert row == "| sqs | 100 | 82 | 0.82 met (0.40-0.85) | 0.85 |"


def test_counts_are_rounded_up_to_whole_batches() -> None:
    assert [bench.rounded(n) for n in (1, 10, 23, 30)] == [10, 10, 30, 30]


@contextmanager
def _rulebus_clients() -> Iterator[cases.MakeClient]:
    from rulebus import mock_aws

    with mock_aws():
        yield cases.client_maker()


@pytest.mark.parametrize("workload", list(cases.WORKLOADS))
def test_each_workload_checks_the_state_it_leaves(workload: str) -> None:
    with _rulebus_clients() as make:
        case = cases.WORKLOADS[workload](make)
        case.prepare()
        tally = case.run(N)
        assert case.problem(N, tally, stateful=True) is None
        # A second run's messages pile up on the first's where the workload leaves them (the
        # subscribed and target queues): the check sees queues that hold more than the run sent.
        again = case.run(N)
        problem = case.problem(N, again, stateful=True)
        if workload == "sqs":
            assert problem is None  # each cycle deletes what it received
        else:
            assert problem is not None and ("depths" in problem or "holds" in problem)


def test_a_lost_message_is_a_problem() -> None:
    with _rulebus_clients() as make:
        case = cases.SqsCycle(make)
        case.prepare()
        tally = case.run(N)
        tally.received -= 1
        problem = case.problem(N, tally, stateful=True)
        assert problem is not None and f"received {N - 1}" in problem


def test_a_publish_that_reaches_no_queue_is_a_problem() -> None:
    with _rulebus_clients() as make:
        case = cases.SnsFanout(make)
        case.prepare()
        tally = case.run(N)
        # One subscribed queue purged: its share of the publishes is missing.
        case.sqs.purge_queue(QueueUrl=case.urls[0])
        problem = case.problem(N, tally, stateful=True)
        assert problem is not None and "depths" in problem


def test_each_publish_reaches_two_of_the_ten_queues() -> None:
    depths = cases.expected_depths(N)
    assert len(depths) == cases.SUBSCRIPTIONS and sum(depths) == 2 * N


def test_the_canned_answers_are_what_boto3_parses() -> None:
    answers = cases.record_answers()
    timed = {"SendMessageBatch", "ReceiveMessage", "DeleteMessageBatch", "Publish", "PutEvents"}
    assert timed <= set(answers)
    hook = cases.canned_hook(answers)
    make = cases.client_maker()
    sqs: Any = make("sqs")
    sqs.meta.events.register("before-send", hook)
    got = sqs.receive_message(QueueUrl=cases.CANNED_QUEUE_URL, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 10 and all(len(m["Body"]) == len(cases.body(0)) == 200 for m in got)
    case = cases.EventsFanout(lambda service: _hooked(make, service, hook))
    tally = case.run(N)
    assert case.problem(N, tally, stateful=False) is None


def _hooked(make: cases.MakeClient, service: str, hook: Any) -> Any:
    made = make(service)
    made.meta.events.register("before-send", hook)
    return made
