"""The ``rulebus`` command: test a pattern, match rules over JSON Lines, run the benchmarks.

    rulebus test-pattern PATTERN EVENT [--explain] [--envelope]
    rulebus test-pattern --sns POLICY MESSAGE [--scope MessageAttributes|MessageBody] [--explain]
    rulebus match RULES [EVENTS] [--count] [--json]
    rulebus bench [--quick | --small] [--rules R --events E]

Exit codes: 0 match (or success), 1 no match (or a benchmark count that is wrong), 2 invalid
input (AWS's message is printed).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import rulebus
from rulebus import explain_hints
from rulebus._files import (
    RulesFileError,
    argument_text,
    chunked,
    decompressing,
    event_lines,
    load_rules,
)

EXIT_MATCH, EXIT_NO_MATCH, EXIT_INVALID = 0, 1, 2


def _stdout() -> Console:
    # Made per call, not at import: click's test runner swaps sys.stdout. Not on a terminal (a
    # pipe, a file), tables are not wrapped to 80 columns: one line per row, for grep and friends.
    width = None if sys.stdout.isatty() else 10_000
    return Console(file=sys.stdout, soft_wrap=True, highlight=False, width=width)


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(EXIT_INVALID)


def _argument(value: str, what: str) -> str | bytes:
    try:
        return argument_text(value)
    except OSError as exc:
        _fail(f"cannot read the {what} {value!r}: {exc.strerror or exc}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(rulebus.__version__, prog_name="rulebus")
def cli() -> None:
    """EventBridge event patterns and SNS filter policies, with AWS's exact semantics."""


# --- test-pattern ---------------------------------------------------------------------------------


def _json_cell(values: Any) -> str:
    return json.dumps(values, ensure_ascii=False)


def print_explanation(console: Console, reasons: Sequence[dict[str, Any]]) -> None:
    """The failing conditions as a table: where, what the pattern wants, what the event has."""
    branches = {reason.get("branch", 0) for reason in reasons}
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    if len(branches) > 1:
        table.add_column("$or branch", justify="right")
    for column in ("path", "operator", "expected", "actual", "why"):
        table.add_column(column)
    for reason in reasons:
        actual = reason.get("actual") or []
        row = [
            escape(str(reason.get("path", ""))),
            escape(str(reason.get("operator", ""))),
            escape(_json_cell(reason.get("expected", []))),
            escape(_json_cell(actual)) if actual else "(absent)",
            escape(str(reason.get("message", ""))),
        ]
        if len(branches) > 1:
            row.insert(0, str(reason.get("branch", 0)))
        table.add_row(*row)
    console.print(table)


SCOPES = ("MessageAttributes", "MessageBody")


def _print_hints(lines: Sequence[str], err: bool = False) -> None:
    for line in lines:
        click.echo(f"hint: {line}", err=err)


def _refuse(error: rulebus.RulebusError, pattern_text: str | bytes | None) -> NoReturn:
    """Exits 2 with the engine's (AWS's) message; with ``pattern_text`` (--explain), the hints
    at the pattern's shape follow it."""
    click.echo(str(error), err=True)
    if pattern_text is not None:
        _print_hints(explain_hints.hints(pattern_text), err=True)
    raise SystemExit(EXIT_INVALID)


def _refuse_with(message: str, hint: str | None) -> NoReturn:
    """Exits 2 with AWS's message, then rulebus's hint at its cause (when it has one)."""
    click.echo(message, err=True)
    if hint is not None:
        _print_hints([hint], err=True)
    raise SystemExit(EXIT_INVALID)


def _message_attributes(text: str | bytes) -> dict[str, Any]:
    """The message attributes as SNS's Publish takes them, ``{"Name": {"DataType": "String",
    "StringValue": "x"}}``, or as a notification carries them, ``{"Name": {"Type": "String",
    "Value": "x"}}``: FilterPolicy.matches reads both, so they are only parsed here."""
    try:
        attributes = json.loads(text)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested too deep
        _fail(f"The message attributes are not valid JSON: {exc}")
    if not isinstance(attributes, dict):
        _fail(
            "The message attributes must be a JSON object of name -> attribute, such as "
            '{"color": {"DataType": "String", "StringValue": "blue"}}'
        )
    return attributes


def _filter_policy(policy_text: str | bytes, scope: str, explain: bool) -> rulebus.FilterPolicy:
    try:
        # Any text: a scope SNS does not know is refused with SNS's message.
        return rulebus.FilterPolicy(policy_text, scope)  # type: ignore[arg-type]
    except rulebus.InvalidPatternError as exc:  # InvalidFilterPolicyError: SNS's InvalidParameter
        _refuse(exc, policy_text if explain else None)


def _sns_message(policy: rulebus.FilterPolicy, message_text: str | bytes) -> dict[str, Any]:
    """The message as FilterPolicy.matches and .explain take it: ``body=`` for a MessageBody
    policy (a body that is not JSON is not refused: SNS does not deliver it to such a policy),
    else ``attributes=``."""
    if policy.scope == "MessageBody":
        return {"body": message_text}
    return {"attributes": _message_attributes(message_text)}


def _attributes_as_event(attributes: dict[str, Any]) -> dict[str, Any]:
    """Message attributes as the values a policy compares (a Number as a number, a
    String.Array as its list), for the hints, which look at an event's keys and value types."""
    values: dict[str, Any] = {}
    for name, attribute in attributes.items():
        if not isinstance(attribute, dict):
            continue
        data_type = str(attribute.get("DataType", attribute.get("Type", "")))
        value = attribute.get("StringValue", attribute.get("Value"))
        if data_type.startswith(("Number", "String.Array")) and isinstance(value, str):
            with contextlib.suppress(ValueError):  # not JSON: the text as it is
                value = json.loads(value)
        values[name] = value
    return values


@cli.command("test-pattern")
@click.argument("pattern")
@click.argument("event")
@click.option(
    "--explain",
    is_flag=True,
    help="On no match, print each failing condition and why, then hints at common mistakes.",
)
@click.option(
    "--envelope",
    is_flag=True,
    help="AWS TestEventPattern semantics: the event must also carry EventBridge's envelope "
    "(id, account, source, time, region, detail-type; resources is not required).",
)
@click.option(
    "--sns",
    is_flag=True,
    help="PATTERN is an Amazon SNS subscription filter policy and EVENT the message: its "
    'attributes ({"Name": {"DataType": "String", "StringValue": "x"}}), or its body with '
    "--scope MessageBody.",
)
@click.option(
    "--scope",
    metavar="|".join(SCOPES),
    help="With --sns: the filter policy scope (default MessageAttributes, as SNS).",
)
def test_pattern(
    pattern: str, event: str, explain: bool, envelope: bool, sns: bool, scope: str | None
) -> None:
    """Whether EVENT matches PATTERN: prints true or false, exits 0 or 1.

    PATTERN and EVENT are JSON text, or @FILE or file://FILE to read a file (@- for standard
    input). Invalid input prints AWS's message and exits 2.
    """
    if scope is not None and not sns:
        _fail("--scope is only used with --sns")
    if envelope and sns:
        _fail("--envelope is EventBridge's TestEventPattern; it is not used with --sns")
    pattern_text = _argument(pattern, "filter policy" if sns else "pattern")
    event_text = _argument(event, "message" if sns else "event")
    if sns:
        policy = _filter_policy(pattern_text, scope or SCOPES[0], explain)
        message = _sns_message(policy, event_text)
        try:
            matched = policy.matches(**message)
        except rulebus.ParameterTypeError as exc:
            _fail(f"The message attributes are not valid: {exc}")
        click.echo("true" if matched else "false")
        if explain and not matched:
            print_explanation(_stdout(), policy.explain(**message))
            shown = message.get("body", event_text)
            if "attributes" in message:
                shown = _attributes_as_event(message["attributes"])
            _print_hints(explain_hints.hints(pattern_text, shown))
        raise SystemExit(EXIT_MATCH if matched else EXIT_NO_MATCH)
    try:
        compiled = rulebus.Pattern(pattern_text)
    except rulebus.InvalidPatternError as exc:
        hint = explain_hints.non_finite_numbers(pattern_text)
        if hint is not None:
            _refuse_with(str(exc), hint)
        _refuse(exc, pattern_text if explain else None)
    try:
        if envelope:
            matched = rulebus.test_event_pattern(pattern_text, event_text)
        else:
            matched = compiled.matches(event_text)
    except rulebus.InvalidEventError as exc:
        _refuse_with(str(exc), explain_hints.missing_envelope(event_text) if envelope else None)
    except rulebus.InvalidPatternError as exc:
        _fail(str(exc))
    click.echo("true" if matched else "false")
    if explain and not matched:
        print_explanation(_stdout(), compiled.explain(event_text))
        _print_hints(explain_hints.hints(pattern_text, event_text))
    raise SystemExit(EXIT_MATCH if matched else EXIT_NO_MATCH)


# --- match ----------------------------------------------------------------------------------------


def build_ruleset(path: str | Path) -> rulebus.RuleSet:
    """A RuleSet of the rules in a file or directory; exits 2 on a bad rule or file."""
    try:
        rules = load_rules(path)
    except (OSError, RulesFileError) as exc:
        _fail(str(exc))
    ruleset = rulebus.RuleSet()
    for name, pattern in rules.items():
        try:
            ruleset.add(name, pattern)
        except rulebus.InvalidPatternError as exc:
            _fail(f"rule {name!r}: {exc}")
    return ruleset


def _match_chunk(
    ruleset: rulebus.RuleSet, chunk: list[tuple[int, bytes]]
) -> tuple[list[list[str]], str | None]:
    """Each event's rule names, up to the first invalid event, and that event's error."""
    try:
        return ruleset.matches_many([line for _, line in chunk]), None
    except rulebus.InvalidEventError:
        pass
    # One by one, to name the line at fault and keep the results before it.
    results: list[list[str]] = []
    for number, line in chunk:
        try:
            results.append(ruleset.matches(line))
        except rulebus.InvalidEventError as exc:
            return results, f"line {number}: {exc}"
    return results, None


def _with_progress(
    raw: IO[bytes], chunks: Iterator[list[tuple[int, bytes]]]
) -> Iterator[list[tuple[int, bytes]]]:
    """The chunks, with a progress bar on stderr over the file's (compressed) bytes."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    total = os.fstat(raw.fileno()).st_size
    columns = (TextColumn("matching"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as progress:
        task = progress.add_task("matching", total=total)
        for chunk in chunks:
            yield chunk
            progress.update(task, completed=raw.tell())


@cli.command("match")
@click.argument("rules", type=click.Path(exists=True, path_type=Path))
@click.argument("events", required=False, type=click.Path(allow_dash=True, path_type=Path))
@click.option(
    "--count", is_flag=True, help="Print how many events each rule matched, not each event's rules."
)
@click.option("--json", "as_json", is_flag=True, help="With --count: a JSON object of rule -> count.")
@click.option("--chunk-size", default=1000, show_default=True, help="Events per matches_many call.")
@click.option("--progress/--no-progress", default=None, help="A progress bar (default: on a terminal).")
def match(
    rules: Path, events: Path | None, count: bool, as_json: bool, chunk_size: int, progress: bool | None
) -> None:
    """Match RULES against each event of EVENTS.

    RULES is a JSON file of rule name -> pattern, or a directory of *.json files (one pattern
    each, named by the file's stem). EVENTS is a JSON Lines file, gzip-compressed or not, or
    standard input when absent or -. Prints each event's matching rule names as a JSON array, one
    line per event; with --count, the number of events each rule matched.
    """
    ruleset = build_ruleset(rules)
    if chunk_size < 1:
        _fail("--chunk-size must be at least 1")
    from_stdin = events is None or str(events) == "-"
    if from_stdin:
        raw: IO[bytes] = sys.stdin.buffer
    else:
        try:
            raw = open(events, "rb")  # type: ignore[arg-type]  # noqa: SIM115 (closed below)
        except OSError as exc:
            _fail(f"cannot read {events}: {exc.strerror or exc}")
    show_progress = progress if progress is not None else (not from_stdin and sys.stderr.isatty())
    counts: Counter[str] = Counter()
    total = 0
    out = getattr(sys.stdout, "buffer", None)
    try:
        chunks = chunked(event_lines(decompressing(raw)), chunk_size)
        if show_progress and not from_stdin:
            chunks = _with_progress(raw, chunks)
        for chunk in chunks:
            results, error = _match_chunk(ruleset, chunk)
            total += len(results)
            if count:
                for names in results:
                    counts.update(names)
            else:
                text = "".join(json.dumps(names, separators=(",", ":")) + "\n" for names in results)
                if out is not None:
                    out.write(text.encode())
                else:
                    sys.stdout.write(text)
            if error is not None:
                if out is not None:
                    out.flush()
                _fail(error)
        if out is not None:
            out.flush()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        _fail(f"cannot read the events: {exc}")
    finally:
        if not from_stdin:
            raw.close()
    if count:
        per_rule = {name: counts.get(name, 0) for name in ruleset.names()}
        if as_json:
            click.echo(json.dumps({"events": total, "matches": per_rule}))
            return
        table = Table(show_edge=False, box=None, header_style="bold")
        table.add_column("rule")
        table.add_column("matches", justify="right")
        for name, n in per_rule.items():
            table.add_row(escape(name), f"{n:,}")
        console = _stdout()
        console.print(table)
        console.print(f"{total:,} events")


# --- bench ----------------------------------------------------------------------------------------


@cli.command("bench")
@click.option(
    "--quick", is_flag=True, help="A subset of the events and fewer scaling points (about a minute)."
)
@click.option("--rules", type=click.Path(exists=True, path_type=Path), help="Your own rules (as for match).")
@click.option("--events", type=click.Path(exists=True, path_type=Path), help="Your own events (JSON Lines).")
@click.option(
    "--small", is_flag=True, help="5,000 generated events instead of 200,000: a check that all works."
)
@click.option(
    "--shared",
    type=click.Path(path_type=Path),
    help="Run the citylots2 material of this folder (gen_citylots2_synth.py and citylots2-rulesets.json, "
    "or a bench folder holding them) instead of the material rulebus ships.",
)
@click.option(
    "--cache",
    type=click.Path(path_type=Path),
    help="Where the generated events are kept (default: rulebus's folder in your cache folder, "
    "e.g. ~/.cache/rulebus).",
)
@click.option(
    "--results",
    type=click.Path(path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help="Where the markdown report, its JSON and the chart are written (relative to the current folder).",
)
@click.option(
    "--passes",
    type=int,
    help="Timed passes per figure: the median, with the slowest and fastest beside it "
    "(default 5; --quick 3).",
)
@click.option(
    "--limit",
    type=int,
    help="Use only N events: for citylots2 every k-th event, so they span the file (--quick: 30,000); "
    "for --events, the first N.",
)
@click.option("--batch", type=int, default=10_000, show_default=True, help="Events per matches_many call.")
@click.option("--set", "only_sets", multiple=True, help="Only this citylots2 rule set (repeatable).")
@click.option("--scaling/--no-scaling", default=True, help="The rule-count scaling table.")
@click.option("--threads/--no-threads", default=True, help="Two threads against one.")
@click.option("--peers/--no-peers", default=True, help="moto and LocalStack on a subset.")
@click.option(
    "--chart/--no-chart", default=True, help='A PNG chart (needs matplotlib: pip install "rulebus[bench]").'
)
def bench(**options: Any) -> None:
    """Benchmark rulebus: the citylots2 workload, rule-count scaling, threads, Python peers.

    The events are generated once into your cache folder; every match count is checked (a wrong
    count fails the run with exit 1). Figures are events/s and ratios to orjson.loads timed
    beside each rule set, each the median of several passes with the slowest and fastest beside
    it.
    With --rules and --events, benchmarks your own rules and events instead.
    """
    from rulebus.bench import BenchOptions, run

    try:
        code = run(BenchOptions(**options))
    except rulebus.InvalidPatternError as exc:
        _fail(str(exc))
    raise SystemExit(code)


# --- serve ----------------------------------------------------------------------------------------

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=4566, show_default=True, help="The port to listen on.")
@click.option(
    "--store",
    default="memory://",
    show_default=True,
    help="Where state is kept: memory://, or an SQLite file (sqlite:///app.db, or a path), one per "
    "account and region beside it.",
)
@click.option(
    "--account",
    default="000000000000",
    show_default=True,
    help="The account every request acts in (moto's servers use 123456789012).",
)
@click.option(
    "--region", default="us-east-1", show_default=True, help="The region of requests that name none."
)
@click.option(
    "--endpoint-url",
    help="The URL clients reach the server by, for SNS's SubscribeURL, UnsubscribeURL and "
    "SigningCertURL (default: http://HOST:PORT).",
)
@click.option("--log-level", default="warning", show_default=True, help="uvicorn's log level.")
@click.option(
    "--verify-signatures",
    is_flag=True,
    help="Refuse requests without a valid AWS Signature Version 4 by one of the configured keys.",
)
@click.option(
    "--access-key",
    "access_keys",
    multiple=True,
    metavar="ID:SECRET",
    help="An access key whose signatures are accepted (repeatable; also RULEBUS_ACCESS_KEYS, "
    "comma separated).",
)
def serve(
    host: str,
    port: int,
    store: str,
    account: str,
    region: str,
    endpoint_url: str | None,
    log_level: str,
    verify_signatures: bool,
    access_keys: tuple[str, ...],
) -> None:
    """Serve the AWS APIs of SQS, SNS, EventBridge, Kinesis and STS over HTTP.

    Point any SDK or the AWS CLI at it (endpoint_url=http://127.0.0.1:4566); requests are
    answered by rulebus brokers, one per account and region. Signatures are accepted unchecked
    unless --verify-signatures is given.
    """
    import uvicorn

    from rulebus.aws import sigv4
    from rulebus.aws.brokers import Brokers
    from rulebus.aws.dispatch import Dispatcher
    from rulebus.aws.server import Server

    verifier = None
    try:
        keys = {**sigv4.keys_from_environment(), **sigv4.parse_access_keys(access_keys)}
        if verify_signatures:
            verifier = sigv4.SignatureVerifier(keys)
        elif access_keys:
            _fail("--access-key is only used with --verify-signatures")
    except ValueError as exc:
        _fail(str(exc))
    if host not in _LOOPBACK and verifier is None:
        click.echo(
            f"warning: listening on {host}: anyone who can reach it can read and delete every "
            "message (requests are not authenticated; see --verify-signatures).",
            err=True,
        )
    try:
        if endpoint_url is None:
            shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
            endpoint_url = f"http://{shown}:{port}"
        brokers = Brokers(store=None if store == "memory://" else store, endpoint_url=endpoint_url)
        dispatcher = Dispatcher(brokers, account=account, region=region, verifier=verifier)
    except (rulebus.RulebusError, ValueError) as exc:
        _fail(str(exc))
    _stdout().print(f"rulebus serving SQS, SNS, EventBridge, Kinesis and STS on http://{host}:{port}")
    # The access log only where its lines are shown (info and below): otherwise uvicorn still
    # formats a line's parts on every request, for a logger that drops it.
    access_log = log_level.lower() in ("trace", "debug", "info")
    uvicorn.run(
        Server(dispatcher), host=host, port=port, log_level=log_level, lifespan="on", access_log=access_log
    )


# --- worker ---------------------------------------------------------------------------------------


@cli.command("worker")
@click.argument("target", metavar="MODULE:BROKER")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Batches run at once (default: the broker's function_workers).",
)
@click.option(
    "--pool",
    type=click.Choice(["threads", "processes"]),
    default=None,
    help="Where handlers run: threads, or child processes, so that a handler past its timeout is "
    "stopped (default: the broker's function_pool).",
)
@click.option(
    "--grace-period",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds the batches taken have to finish after SIGTERM or SIGINT before they are returned.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
    help="The level of the rulebus loggers' lines on stderr.",
)
def worker(target: str, workers: int | None, pool: str | None, grace_period: float, log_level: str) -> None:
    """Run the functions and event source mappings of a program's broker.

    MODULE:BROKER names the broker as uvicorn names an app: "app:broker" imports app.py (from the
    current directory or the path) and takes its "broker". The broker must keep its state where
    the program and its workers share it: an SQLite file or a Redis server. SIGTERM or SIGINT
    stops the worker gracefully: no new batch is taken, those taken finish (or, after
    --grace-period, go back to their queue or stream unsettled), and it exits with 0.
    """
    import logging

    from rulebus.functions.worker import WorkerError, run_worker

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code = run_worker(target, workers=workers, pool=pool, grace_period=grace_period)
    except (WorkerError, rulebus.RulebusError, ValueError) as exc:
        _fail(str(exc))
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script's entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="rulebus")


if __name__ == "__main__":
    main()
