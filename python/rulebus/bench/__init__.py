"""The benchmark harness behind ``rulebus bench``.

    rulebus bench                      # citylots2, rule-count scaling, threads, Python peers
    rulebus bench --quick              # a subset of the events, fewer scaling points
    rulebus bench --small              # 5,000 generated events: a check that all works
    rulebus bench --rules R --events E # your own rules and events

The citylots2 material ships with rulebus (``rulebus.bench.workload``): the events are generated
once into the user's cache folder. Figures are events/s of ``RuleSet.matches_many`` on bytes, with
``orjson.loads`` over the same lines as the yardstick, timed beside each rule set in every pass
(a stretch of the lines under one, then the other): machines differ and drift, ratios measured
side by side travel. Each figure is the median of several passes, shown
with the slowest and fastest. Every match count is checked; a wrong one fails the run (exit 1).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import rulebus
from rulebus._files import RulesFileError, load_rules, read_event_lines
from rulebus.bench.citylots import expected_by_pattern, run_citylots
from rulebus.bench.data import (
    Material,
    MaterialError,
    RuleSetSpec,
    check_digest,
    default_cache,
    from_folder,
    shipped,
    union_counts,
)
from rulebus.bench.measure import (
    NO_ORJSON,
    Batches,
    batches,
    compile_measuring_memory,
    match_pass,
    orjson_loads,
    paired_pass,
    threads_pass,
)
from rulebus.bench.peers import run_peers
from rulebus.bench.report import CustomResult, Report, ThreadsResult, machine_meta, markdown, write
from rulebus.bench.scaling import FULL_POINTS, QUICK_POINTS, Fields, run_scaling
from rulebus.bench.workload import rulesets as shipped_rulesets
from rulebus.bench.workload.expected import every_kth, expected_counts

__all__ = ["BenchOptions", "run"]

EXIT_OK, EXIT_WRONG, EXIT_INVALID = 0, 1, 2

QUICK_EVENTS = 30_000
PEER_EVENTS, QUICK_PEER_EVENTS = 5_000, 1_000
PEER_SETS = ("EXACT", "NUMERIC")
THREAD_SETS = ("EXACT", "COMBO")
# Seconds one scaling pass may take before the row is measured on fewer events.
BUDGET, QUICK_BUDGET = 60.0, 8.0


@dataclass
class BenchOptions:
    quick: bool = False
    rules: Path | None = None
    events: Path | None = None
    shared: Path | None = None
    small: bool = False
    cache: Path | None = None  # None: the user's cache folder
    results: Path = Path("bench-results")
    counts: Path | None = None  # another copy of the shipped counts (the tests corrupt one)
    passes: int | None = None
    limit: int | None = None
    batch: int = 10_000
    only_sets: tuple[str, ...] = ()
    scaling: bool = True
    threads: bool = True
    peers: bool = True
    chart: bool = True

    @property
    def pass_count(self) -> int:
        return max(1, self.passes if self.passes is not None else (3 if self.quick else 5))


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def run(options: BenchOptions, say: Callable[[str], None] = _say) -> int:
    """Runs the benchmark, writes the results; 0, or 1 on a wrong count, 2 on bad input."""
    if options.batch < 1 or (options.limit is not None and options.limit < 1):
        say("--batch and --limit must be at least 1")
        return EXIT_INVALID
    if (options.rules is None) != (options.events is None):
        say("--rules and --events go together")
        return EXIT_INVALID
    report = Report(machine_meta())
    load_at_start = _load()
    if load_at_start != "unknown" and float(load_at_start) > 1.0:
        say(f"the machine is busy (load average {load_at_start}): the figures will be skewed")
    try:
        if options.rules is not None and options.events is not None:
            code = _custom(options, report, say)
        else:
            code = _citylots2(options, report, say)
    except (MaterialError, RulesFileError, OSError) as exc:
        say(str(exc))
        return EXIT_INVALID
    if code == EXIT_INVALID:
        return code
    report.meta["load average (1 min)"] = f"{load_at_start} at the start, {_load()} at the end"
    paths = write(report, options.results, options.chart)
    print(markdown(report))
    for path in paths:
        say(f"wrote {path}")
    return EXIT_OK if report.ok else EXIT_WRONG


def _passes(n: int) -> str:
    return "1 pass" if n == 1 else f"{n} passes"


def _method(passes: int, batch: int) -> str:
    return f"median of {_passes(passes)} (the slowest and fastest beside it), batches of {batch:,} events"


def _load() -> str:
    """The 1-minute load average: another busy process on the machine skews every figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def _threads(
    report: Report, rules: list[tuple[str, str | bytes]], name: str, work: Batches, passes: int
) -> None:
    ruleset, _, _ = compile_measuring_memory(rules)
    events = sum(len(b) for b in work)
    one: list[float] = []
    two: list[float] = []
    for _ in range(passes):  # alternating, so that load elsewhere on the machine hits both alike
        one.append(threads_pass(ruleset, work, 1))
        two.append(threads_pass(ruleset, work, 2))
    report.threads.append(ThreadsResult(name, events, one, two))


def _material(options: BenchOptions, say: Callable[[str], None]) -> Material:
    cache = options.cache if options.cache is not None else default_cache()
    if options.shared is not None:
        return from_folder(options.shared, cache, say)
    return shipped(cache, options.small, options.counts, say)


def _expected(
    material: Material, specs: list[RuleSetSpec], lines: list[bytes], whole: bool, say: Callable[[str], None]
) -> tuple[dict[str, list[int]], str]:
    """The counts each set is checked against on these events, and where they come from."""
    if whole:
        return {s.name: s.expected for s in specs if s.expected is not None}, material.expected_from
    stored = material.subset_counts.get(len(lines))
    if stored is not None:
        found = {s.name: union_counts(stored, s.members) if s.members else stored.get(s.name) for s in specs}
        return {name: counts for name, counts in found.items() if counts is not None}, "stored counts"
    if material.shipped:
        say(f"expected counts on this subset: the reference matcher over {len(lines):,} events")
        needed = {m for s in specs for m in (s.members or [s.name])}
        raw = {name: spec for name, spec in shipped_rulesets().items() if name in needed}
        counted = expected_counts(raw, lines)
        found = {s.name: union_counts(counted, s.members) if s.members else counted[s.name] for s in specs}
        return {name: counts for name, counts in found.items() if counts is not None}, "the reference matcher"
    say(f"expected counts on this subset: each rule as a single Pattern over {len(lines):,} events")
    return expected_by_pattern(specs, lines), "single Patterns"


def _citylots2(options: BenchOptions, report: Report, say: Callable[[str], None]) -> int:
    material = _material(options, say)
    specs = material.specs
    if options.only_sets:
        unknown = sorted(set(options.only_sets) - {s.name for s in specs})
        if unknown:
            say(f"no such rule set: {', '.join(unknown)} (known: {', '.join(s.name for s in specs)})")
            return EXIT_INVALID
        specs = [s for s in specs if s.name in options.only_sets]
    limit = options.limit if options.limit is not None else (QUICK_EVENTS if options.quick else None)
    say(f"reading {material.data}")
    every = read_event_lines(material.data)
    check_digest(material, every)
    whole = limit is None or limit >= len(every)
    lines = every if whole else every_kth(every, limit or len(every))
    del every
    work = batches(lines, options.batch)
    passes = options.pass_count
    expected, expected_from = _expected(material, specs, lines, whole, say)
    report.meta["data"] = material.description + (
        "" if whole else f"; measured on {len(lines):,} of them (every k-th event of the file)"
    )
    report.meta["method"] = _method(passes, options.batch)

    say(f"citylots2: {len(specs)} rule sets over {len(lines):,} events, {_passes(passes)}")
    report.citylots = run_citylots(
        specs,
        lines,
        work,
        expected=expected,
        expected_from=expected_from,
        whole_file=whole,
        passes=passes,
        with_json=not options.quick,
        say=say,
    )
    if not report.citylots.ok:
        say("WRONG COUNTS: the run fails (see the report)")

    if options.threads:
        by_name = {s.name: s for s in specs}
        for name in THREAD_SETS:
            if name in by_name:
                say(f"two threads against one on {name}")
                _threads(report, list(by_name[name].rules), name, work, passes)

    if options.scaling:
        say("rule-count scaling: reading the fields the rules are made from")
        fields = Fields.of(lines)
        points = QUICK_POINTS if options.quick else FULL_POINTS
        budget = QUICK_BUDGET if options.quick else BUDGET
        report.scaling = run_scaling(fields, work, points, passes, budget, say)

    if options.peers:
        n = QUICK_PEER_EVENTS if options.quick else PEER_EVENTS
        subset = lines[:n]
        chosen = [(s.name, s.rules) for s in specs if s.name in PEER_SETS]
        if chosen:
            say(f"Python peers on the first {len(subset):,} events")
            report.peers = run_peers(chosen, subset, batches(subset, options.batch), passes, say)
    if orjson_loads() is None:
        report.notes.append(NO_ORJSON)
    return EXIT_OK


def _custom(options: BenchOptions, report: Report, say: Callable[[str], None]) -> int:
    assert options.rules is not None and options.events is not None
    rules = list(load_rules(options.rules).items())
    lines = read_event_lines(options.events, options.limit)
    if not lines:
        say(f"{options.events}: no events")
        return EXIT_INVALID
    passes = options.pass_count
    report.meta["data"] = (
        f"{len(rules):,} rules from {options.rules.name}, {len(lines):,} events from {options.events.name}"
    )
    report.meta["method"] = _method(passes, options.batch)
    try:
        ruleset, compile_seconds, memory = compile_measuring_memory(rules)
    except rulebus.InvalidPatternError as exc:
        # Name the rule at fault: add them one by one until one fails.
        probe = rulebus.RuleSet()
        for name, pattern in rules:
            try:
                probe.add(name, pattern)
            except rulebus.InvalidPatternError:
                say(f"rule {name!r}: {exc}")
                return EXIT_INVALID
        raise
    work = batches(lines, options.batch)
    say(f"{len(rules):,} rules over {len(lines):,} events, {_passes(passes)}")
    tally: Counter[str] = Counter()
    try:
        first = match_pass(ruleset, work, tally)
    except rulebus.InvalidEventError:
        for number, line in enumerate(lines, 1):
            try:
                ruleset.matches(line)
            except rulebus.InvalidEventError as exc:
                say(f"{options.events}: event {number:,} (non-blank line): {exc}")
                break
        return EXIT_INVALID
    loads = orjson_loads()
    orjson_times: list[float] = []
    if loads is None:
        times = [first] + [match_pass(ruleset, work) for _ in range(passes - 1)]
    else:
        # The counting pass apart, each pass times the yardstick beside the rules (paired_pass).
        times = []
        for _ in range(passes):
            matching, loading, _ = paired_pass(ruleset, work, loads)
            times.append(matching)
            orjson_times.append(loading)
    report.custom = CustomResult(
        len(rules),
        compile_seconds,
        memory,
        len(lines),
        times,
        orjson_times,
        {name: tally.get(name, 0) for name, _ in rules},
    )
    if options.threads:
        _threads(report, rules, options.rules.name, work, passes)
    if options.peers and len(rules) <= 100:
        n = QUICK_PEER_EVENTS if options.quick else PEER_EVENTS
        subset = lines[:n]
        text_rules = [(name, p if isinstance(p, str) else p.decode()) for name, p in rules]
        report.peers = run_peers(
            [(options.rules.name, text_rules)], subset, batches(subset, options.batch), passes, say
        )
    elif options.peers:
        report.notes.append("Python peers skipped: more than 100 rules would take them too long")
    return EXIT_OK
