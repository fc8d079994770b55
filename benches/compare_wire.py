"""boto3 through rulebus, beside boto3 through moto and boto3's own ceiling (issue 13), one run.

    .venv/bin/pip install -r requirements-bench.txt     # moto[server] (moto.mock_aws, moto_server)
    .venv/bin/python benches/compare_wire.py --messages 5000 --repeat 3 --moto-messages 500

Three workloads (benches/wire_cases.py): SQS send_message_batch / receive_message (10) /
delete_message_batch in batches of 10 (messages/s over the cycle); SNS publish, one by one, to a
topic with 10 SQS subscriptions with filter policies (publishes/s); EventBridge put_events in
batches of 10 through 100 rules with SQS targets on the default bus (events/s). Each runs, in
turn, through the same boto3 client:

- in process: ``rulebus.mock_aws``, ``moto.mock_aws``, and the ceiling: a botocore ``before-send``
  hook answering each call with a recorded answer (no work behind it);
- over HTTP, each server a subprocess on a free loopback port: ``rulebus serve`` (python -m
  rulebus.cli serve), ``moto_server`` (python -m moto.server), and two ceilings answering the
  recorded answers: a bare asyncio HTTP/1.1 server, and an ASGI app on uvicorn (the server stack
  rulebus serve runs on).

The recorded answers are rulebus's own responses to the same calls (same bytes to parse). moto
runs on ``--moto-messages`` (it is slow; rates are compared, not times). A figure is the median of
K repeats, the engines taking turns within each repeat so that machine noise hits them alike;
compare ratios measured in one run. Every count is checked (what the answers say and, for rulebus
and moto, the queues' depths afterwards): a message lost or duplicated fails the run (exit 1).
moto is skipped, with a note, when it is not installed.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import asdict, astuple, dataclass, field
from pathlib import Path

from wire_cases import (
    WORKLOADS,
    MakeClient,
    ServerProcess,
    Tally,
    canned_hook,
    canned_serve,
    client_maker,
    hooked_client_maker,
    moto_missing,
    moto_serve,
    moto_server_missing,
    record_answers,
    rulebus_serve,
    write_answers,
)

RESULTS = Path(__file__).resolve().parent.parent / "bench-results" / "wire.json"

IN_PROCESS = "in process"
HTTP = "over HTTP"
CEILING_GOAL = 0.80
MOTO_GOAL = 10.0


@dataclass
class Engine:
    """One way of answering boto3: ``session()`` yields a client maker, fresh state each time."""

    name: str
    mode: str
    role: str  # "ceiling", "rulebus", "moto" or "server ceiling" (canned on uvicorn)
    session: Callable[[], AbstractContextManager[MakeClient]]

    @property
    def stateful(self) -> bool:
        return self.role in ("rulebus", "moto")


@dataclass
class Figures:
    """Medians over the repeats, by ``"<workload> | <engine>"``, and the problems found."""

    rates: dict[str, float] = field(default_factory=dict)
    # The best rate of the repeats, by the same keys: noise on a shared machine only ever slows a
    # run down, so the best of several is the nearest to what the code itself costs.
    best: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # Per workload and mode: rulebus's rate over the ceiling's in each repeat (the two ran one
    # after the other, so a drift of the machine's speed hits both alike), in repeat order.
    ceiling_ratios: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# The engines.


def _in_process_engines(answers_hook: Callable[..., object], moto: bool) -> list[Engine]:
    @contextmanager
    def canned() -> Iterator[MakeClient]:
        yield hooked_client_maker(answers_hook)

    @contextmanager
    def rulebus_mock() -> Iterator[MakeClient]:
        from rulebus import mock_aws

        with mock_aws():
            yield client_maker()

    @contextmanager
    def moto_mock() -> Iterator[MakeClient]:
        from moto import mock_aws

        with mock_aws():
            yield client_maker()

    engines = [
        Engine("boto3 + canned answer (before-send hook)", IN_PROCESS, "ceiling", canned),
        Engine("rulebus.mock_aws", IN_PROCESS, "rulebus", rulebus_mock),
    ]
    if moto:
        engines.append(Engine("moto.mock_aws", IN_PROCESS, "moto", moto_mock))
    return engines


def _http_engine(name: str, role: str, server: ServerProcess) -> Engine:
    @contextmanager
    def session() -> Iterator[MakeClient]:
        server.reset()
        yield client_maker(server.url)

    return Engine(name, HTTP, role, session)


def _servers(answers_file: Path, moto: bool) -> list[tuple[str, str, ServerProcess]]:
    servers = [
        (
            "boto3 + canned answer (bare asyncio server)",
            "ceiling",
            ServerProcess("canned server", canned_serve(answers_file, "raw"), reset=False),
        ),
        (
            "boto3 + canned answer (ASGI app on uvicorn)",
            "server ceiling",
            ServerProcess("canned uvicorn", canned_serve(answers_file, "uvicorn"), reset=False),
        ),
        ("rulebus serve", "rulebus", ServerProcess("rulebus serve", rulebus_serve)),
    ]
    if moto:
        servers.append(("moto_server", "moto", ServerProcess("moto_server", moto_serve)))
    return servers


# --------------------------------------------------------------------------------------------
# Measuring.


WARM_UP = 10  # units each session runs untimed first: a client's first call loads and caches


def run_once(engine: Engine, workload: str, n: int) -> tuple[float, str | None]:
    """(ops/s, the problem with the counts or None) of one run of ``workload`` on ``engine``."""
    with engine.session() as make:
        case = WORKLOADS[workload](make)
        if engine.stateful:
            case.prepare()
        first = case.run(WARM_UP)
        start = time.perf_counter()
        tally = case.run(n)
        seconds = time.perf_counter() - start
        total = Tally(*(a + b for a, b in zip(astuple(first), astuple(tally), strict=True)))
        problem = case.problem(WARM_UP + n, total, engine.stateful)
    return n / seconds, None if problem is None else f"{workload} on {engine.name}: {problem}"


def measure_engines(
    engines: Sequence[Engine], workloads: Sequence[str], n: int, moto_n: int, repeat: int, figures: Figures
) -> None:
    samples: dict[str, list[float]] = {}
    # One untimed round first: each server loads the service models on its first request.
    for workload in workloads:
        for engine in engines:
            _, problem = run_once(engine, workload, 10)
            if problem:
                figures.problems.append(f"warm-up: {problem}")
    for _ in range(repeat):
        for workload in workloads:
            rates: dict[str, float] = {}
            for engine in engines:
                count = moto_n if engine.role == "moto" else n
                rate, problem = run_once(engine, workload, count)
                key = f"{workload} | {engine.name}"
                samples.setdefault(key, []).append(rate)
                rates[engine.role] = rate
                figures.counts[key] = count
                if problem:
                    figures.problems.append(problem)
            if "ceiling" in rates and "rulebus" in rates:
                key = f"{workload} | {engines[0].mode}"
                figures.ceiling_ratios.setdefault(key, []).append(rates["rulebus"] / rates["ceiling"])
    for key, rates_ in samples.items():
        figures.rates[key] = statistics.median(rates_)
        figures.best[key] = max(rates_)


def rounded(n: int) -> int:
    """n up to a whole number of batches of 10 (a canned receive always answers 10)."""
    return max(10, -(-n // 10) * 10)


def measure(args: argparse.Namespace) -> tuple[Figures, list[Engine]]:
    figures = Figures()
    n, moto_n = rounded(args.messages), rounded(args.moto_messages) if args.moto_messages else 0
    moto = moto_n > 0 and moto_missing() is None
    if moto_n and not moto:
        figures.skipped.append(f"moto.mock_aws and moto_server skipped: {moto_missing()}")
    moto_server = moto and moto_server_missing() is None
    if moto and not moto_server:
        figures.skipped.append(f"moto_server skipped: {moto_server_missing()}")
    answers = record_answers()
    engines: list[Engine] = []
    if not args.no_in_process:
        engines = _in_process_engines(canned_hook(answers), moto)
        measure_engines(engines, args.workloads, n, moto_n, args.repeat, figures)
    if not args.no_http:
        with tempfile.TemporaryDirectory(prefix="rulebus-wire-") as folder, ExitStack() as stack:
            servers = _servers(write_answers(answers, Path(folder)), moto_server)
            http = []
            for name, role, server in servers:
                stack.callback(server.stop)
                server.start()
                http.append(_http_engine(name, role, server))
            measure_engines(http, args.workloads, n, moto_n, args.repeat, figures)
            engines += http
    return figures, engines


# --------------------------------------------------------------------------------------------
# Tables.


def _verdict(value: float, goal: float, unit: str) -> str:
    shown = f"{value:.2f}" if unit == "" else f"{value:,.1f}{unit}"
    return f"{shown} {'met' if value >= goal else '**missed**'}"


def mode_table(figures: Figures, engines: Sequence[Engine], mode: str, workloads: Sequence[str]) -> str:
    ours = [e for e in engines if e.mode == mode]
    by_role = {e.role: e.name for e in ours}
    header = ["workload", *(f"{e.name} /s" for e in ours)]
    if "ceiling" in by_role:
        header.append(f"rulebus ÷ ceiling, median of the repeats' ratios (spread; goal ≥ {CEILING_GOAL:.2f})")
        header.append("rulebus ÷ ceiling, best run ÷ best run")
    if "server ceiling" in by_role:
        header.append("rulebus ÷ canned on uvicorn")
    if "moto" in by_role:
        header.append(f"rulebus ÷ moto (goal ≥ {MOTO_GOAL:.0f}x)")
        if "ceiling" in by_role:
            # The most any engine could be: boto3's own cost bounds every ratio to moto.
            header.append("ceiling ÷ moto (the most reachable)")
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for workload in workloads:
        rate = {role: figures.rates.get(f"{workload} | {name}") for role, name in by_role.items()}
        if rate.get("rulebus") is None:
            continue
        cells = [workload]
        for e in ours:
            value = figures.rates.get(f"{workload} | {e.name}")
            cells.append("" if value is None else f"{value:,.0f}")
        mine = rate["rulebus"]
        assert mine is not None
        if "ceiling" in by_role and rate["ceiling"]:
            paired = figures.ceiling_ratios.get(f"{workload} | {mode}", [])
            if paired:
                # The median of the repeats' own ratios, each of two runs side by side, and
                # their spread: steadier than the ratio of two medians when the machine drifts.
                spread = f" ({min(paired):.2f}-{max(paired):.2f})" if len(paired) > 1 else ""
                cells.append(_verdict(statistics.median(paired), CEILING_GOAL, "") + spread)
            else:
                cells.append(_verdict(mine / rate["ceiling"], CEILING_GOAL, ""))
            best = {role: figures.best.get(f"{workload} | {name}") for role, name in by_role.items()}
            best_mine, best_ceiling = best.get("rulebus"), best.get("ceiling")
            cells.append(f"{best_mine / best_ceiling:.2f}" if best_mine and best_ceiling else "")
        if "server ceiling" in by_role and rate["server ceiling"]:
            cells.append(f"{mine / rate['server ceiling']:.2f}")
        if "moto" in by_role and rate["moto"]:
            cells.append(_verdict(mine / rate["moto"], MOTO_GOAL, "x"))
            if "ceiling" in by_role and rate["ceiling"]:
                cells.append(f"{rate['ceiling'] / rate['moto']:,.1f}x")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(figures: Figures, engines: Sequence[Engine], args: argparse.Namespace) -> str:
    n = rounded(args.messages)
    moto_n = rounded(args.moto_messages) if args.moto_messages else 0
    parts = [
        f"boto3 {_boto3_version()}; ops/s (messages, publishes or events per second), median of "
        f"{args.repeat}; {n:,} per run, moto {moto_n:,}",
        "",
    ]
    for name in args.workloads:
        case = WORKLOADS[name]
        parts.append(f"- {name}: {getattr(case, 'title', name)} ({getattr(case, 'unit', 'ops')}/s)")
    parts.append("")
    for mode, what in (
        (IN_PROCESS, "In process (botocore's before-send hook, no socket)"),
        (HTTP, "Over HTTP (each server a subprocess on a loopback port; keep-alive connections)"),
    ):
        if any(e.mode == mode for e in engines):
            parts += [what, "", mode_table(figures, engines, mode, args.workloads), ""]
    parts += figures.skipped
    problems = "none" if not figures.problems else f"{len(figures.problems)} WRONG"
    parts.append(f"Counts: {problems} (every rulebus and moto run checked against its queues)")
    return "\n".join(parts)


def _boto3_version() -> str:
    import boto3

    return str(boto3.__version__)


def write_json(figures: Figures, args: argparse.Namespace, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "boto3": _boto3_version(),
        "arguments": vars(args) | {"output": str(args.output)},
        **asdict(figures),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=5000, help="messages, publishes or events per run (whole batches)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--moto-messages", type=int, default=500, help="per moto run (0 leaves moto out)")
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--no-http", action="store_true", help="in process only")
    parser.add_argument("--no-in-process", action="store_true", help="over HTTP only")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    figures, engines = measure(args)
    print(report(figures, engines, args))
    write_json(figures, args, args.output)
    print(f"JSON: {args.output}")
    for problem in figures.problems:
        print(f"WRONG COUNT: {problem}")
    return 1 if figures.problems else 0


if __name__ == "__main__":
    sys.exit(main())
