"""Instructions per message, counted: boto3 through rulebus.mock_aws beside boto3's own ceiling.

    python benches/count_wire.py [--units 300] [--workloads sqs sns events] [--jobs 2]

``compare_wire.py`` times the same workloads (benches/wire_cases.py), but on a shared machine its
figures move by up to 2x between runs, the ceiling's too. This counts instead: each engine runs
each workload in a child process under valgrind's callgrind, once with ``--units`` more messages
(publishes, events) than the other, and the difference of the two runs' instruction counts, per
message, is what the messages cost: the imports, the set-up and the warm-up cancel out, and so
does the machine's load. The ratio ceiling ÷ rulebus is then the share of the ceiling's rate that
rulebus would reach if an instruction took the same time in both (it does not quite: the two run
partly different code; compare_wire.py stays the measure of time, this one says what changed
when the timings are too noisy to).

Engines, in process: ``boto3 + canned answer`` (a before-send hook answering each call with
rulebus's own recorded answer, no work behind it) and ``rulebus.mock_aws``. Needs ``valgrind``
on the PATH. Each child takes a minute or two (Python under callgrind runs about 50x slower).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from wire_cases import WORKLOADS, MakeClient, canned_hook, client_maker, hooked_client_maker, record_answers

WARM_UP = 100  # units every child runs first (the codec's plans, the caches, the queues made)
ENGINES = ("ceiling", "rulebus")
COLLECTED = re.compile(rb"Collected : (\d+)")
SINGULAR = {"messages": "message", "publishes": "publish", "events": "event"}


@contextmanager
def _engine(name: str) -> Iterator[MakeClient]:
    if name == "rulebus":
        from rulebus import mock_aws

        with mock_aws():
            yield client_maker()
        return
    # The ceiling answers with rulebus's own answers, recorded (in both runs alike) first.
    yield hooked_client_maker(canned_hook(record_answers()))


def child(engine: str, workload: str, units: int) -> None:
    """Run in the counted process: the warm-up, then ``units`` more."""
    with _engine(engine) as make:
        case = WORKLOADS[workload](make)
        if engine == "rulebus":
            case.prepare()  # (the canned answers need no queues, topics or rules)
        case.run(WARM_UP)
        if units:
            case.run(units)


def count(engine: str, workload: str, units: int) -> int:
    """The instructions one counted child executes (its whole life)."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        engine,
        workload,
        str(units),
    ]
    done = subprocess.run(command, capture_output=True, check=False)
    found = COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        tail = done.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{engine} {workload} {units}: exit {done.returncode}\n{tail}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--units", type=int, default=300, help="messages counted (whole batches)")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="children at once")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "WORKLOAD", "UNITS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine, workload, units = args.child
        child(engine, workload, int(units))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    runs = [(e, w, n) for w in args.workloads for e in ENGINES for n in (0, args.units)]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        counted = dict(zip(runs, pool.map(lambda run: count(*run), runs)))
    per_unit = {(e, w): (counted[(e, w, args.units)] - counted[(e, w, 0)]) / args.units for e, w, _ in runs}
    print(f"Instructions per unit (callgrind; {args.units} units counted after {WARM_UP} of warm-up)\n")
    print("| workload | unit | boto3 + canned answer | rulebus.mock_aws | rulebus adds | ceiling ÷ rulebus |")
    print("|---|---|---:|---:|---:|---:|")
    for workload in args.workloads:
        ceiling, rulebus = per_unit[("ceiling", workload)], per_unit[("rulebus", workload)]
        unit = SINGULAR.get(WORKLOADS[workload].unit, WORKLOADS[workload].unit)
        print(
            f"| {workload} | {unit} | {ceiling:,.0f} | {rulebus:,.0f} | {rulebus - ceiling:,.0f} "
            f"| {ceiling / rulebus:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
