"""The citylots2 workload: every rule set in a fresh RuleSet, counts checked, ratios to orjson."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable

import rulebus
from rulebus.bench.data import RuleSetSpec
from rulebus.bench.measure import (
    NO_ORJSON,
    Batches,
    compile_rules,
    loads_pass,
    match_pass,
    orjson_loads,
    paired_pass,
    rate,
    spread_text,
)

# The reference engine, aws/event-ruler 2.0.1, measured by rulebus's authors on a 2 vCPU Xeon VM
# with CPython 3.11: events/s over a generated citylots2-shaped file of 213,068 events (made by
# another generator than the one shipped, with the same line schema), and orjson.loads over the
# same lines in the same run. Its ratios to orjson.loads are what compares across machines.
REFERENCE_ORJSON = 286_454
REFERENCE_EVENTS_PER_S: dict[str, float] = {
    "json.loads": 70_338,
    "orjson.loads": 286_454,
    "empty": 340_345,  # event-ruler with no rules: its JSON scan floor
    "EXACT": 299_261,
    "WILDCARD": 246_525,
    "PREFIX": 335_764,
    "PREFIX_EQUALS_IGNORE_CASE": 330_778,
    "SUFFIX": 286_906,
    "SUFFIX_EQUALS_IGNORE_CASE": 317_550,
    "EQUALS_IGNORE_CASE": 292_110,
    "NUMERIC": 148_063,
    "ANYTHING-BUT": 191_145,
    "ANYTHING-BUT-IGNORE-CASE": 187_422,
    "ANYTHING-BUT-PREFIX": 162_509,
    "ANYTHING-BUT-SUFFIX": 193_704,
    "ANYTHING-BUT-WILDCARD": 192_994,
    "COMPLEX_ARRAYS": 37_767,
    "PARTIAL_COMBO": 58_523,
    "COMBO": 21_160,
}


def reference_ratio(name: str) -> float | None:
    events_per_s = REFERENCE_EVENTS_PER_S.get(name)
    return None if events_per_s is None else events_per_s / REFERENCE_ORJSON


@dataclass
class Wrong:
    rule: str
    got: int
    expected: int


@dataclass
class SetResult:
    name: str
    rules: int
    compile_seconds: float
    events: int
    pass_seconds: list[float]
    counts: list[int]  # per rule, in the set's order
    expected: list[int] | None
    expected_from: str  # what the counts were checked against
    wrong: list[Wrong] = field(default_factory=list)
    ratio: float | None = None  # to orjson.loads, this run: the median of the passes' own ratios
    reference_ratio: float | None = None
    # Per pass: orjson.loads's seconds over the same lines, timed beside the set (paired_pass).
    orjson_seconds: list[float] = field(default_factory=list)
    # Per pass: seconds of one `RuleSet.matches` call per event over the same lines, beside them.
    one_by_one_seconds: list[float] = field(default_factory=list)

    @property
    def pass_ratios(self) -> list[float]:
        """Each pass's events/s over orjson.loads's, both timed in that pass side by side."""
        return [o / s for s, o in zip(self.pass_seconds, self.orjson_seconds) if s > 0]

    @property
    def one_by_one_ratio(self) -> float | None:
        """The median pass's ratio of a `matches` loop's events/s to orjson.loads's."""
        ratios = [o / s for s, o in zip(self.one_by_one_seconds, self.orjson_seconds) if s > 0]
        return statistics.median(ratios) if ratios else None

    @property
    def one_by_one_events_per_s(self) -> float | None:
        return rate(self.events, self.one_by_one_seconds) if self.one_by_one_seconds else None

    @property
    def events_per_s(self) -> float:
        return rate(self.events, self.pass_seconds)

    @property
    def ok(self) -> bool:
        return not self.wrong


@dataclass
class Yardstick:
    name: str
    events: int
    pass_seconds: list[float]

    @property
    def events_per_s(self) -> float:
        return rate(self.events, self.pass_seconds)


@dataclass
class CitylotsResult:
    events: int
    whole_file: bool
    yardsticks: list[Yardstick]
    sets: list[SetResult]

    @property
    def orjson(self) -> Yardstick | None:
        return next((y for y in self.yardsticks if y.name == "orjson.loads"), None)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sets)


def expected_by_pattern(specs: Sequence[RuleSetSpec], lines: Sequence[bytes]) -> dict[str, list[int]]:
    """Counts per rule from single Patterns, one by one: the check on a subset of a file whose
    counts are known only for the whole file. Combined sets reuse their members' counts."""
    by_set: dict[str, list[int]] = {}
    for spec in specs:
        if not spec.members:
            by_set[spec.name] = [
                sum(map(rulebus.Pattern(pattern).matches, lines)) for _, pattern in spec.rules
            ]
    for spec in specs:
        if spec.members and all(m in by_set for m in spec.members):
            by_set[spec.name] = [n for member in spec.members for n in by_set[member]]
    return by_set


def check(counts: list[int], expected: list[int], rules: Sequence[tuple[str, str]]) -> list[Wrong]:
    return [Wrong(name, got, want) for (name, _), got, want in zip(rules, counts, expected) if got != want]


def run_citylots(
    specs: Sequence[RuleSetSpec],
    lines: Sequence[bytes],
    work: Batches,
    *,
    expected: dict[str, list[int]],
    expected_from: str,
    whole_file: bool,
    passes: int,
    with_json: bool = True,
    say: Callable[[str], None] = lambda _: None,
) -> CitylotsResult:
    """Every set, timed and its counts checked against ``expected`` (by set name)."""
    events = len(lines)
    loads = orjson_loads()
    if loads is None:
        say(NO_ORJSON)

    compiled = []
    for spec in specs:
        ruleset, seconds = compile_rules(spec.rules)
        compiled.append((spec, ruleset, seconds))
    empty, _ = compile_rules([])

    # Round robin: each pass times the yardstick, the empty set and every set in turn, so that a
    # burst of load elsewhere on the machine hits them alike instead of all passes of one set.
    orjson_times: list[float] = []
    floor_times: list[float] = []
    set_times: dict[str, list[float]] = {spec.name: [] for spec in specs}
    tallies: dict[str, Counter[str]] = {spec.name: Counter() for spec in specs}
    paired_orjson: dict[str, list[float]] = {spec.name: [] for spec in specs}
    one_by_one: dict[str, list[float]] = {spec.name: [] for spec in specs}
    json_times = [loads_pass(json.loads, lines)] if with_json else []
    for n in range(passes):
        say(f"pass {n + 1} of {passes}" + (" (counting)" if n == 0 else ""))
        if loads is not None:
            orjson_times.append(loads_pass(loads, lines))
        floor_times.append(match_pass(empty, work))
        for spec, ruleset, _ in compiled:
            tally = tallies[spec.name] if n == 0 else None
            if loads is None:
                set_times[spec.name].append(match_pass(ruleset, work, tally))
                continue
            # The yardstick beside each set, segment by segment: a set's ratio to orjson.loads
            # then holds even when the machine's speed drifts across the many seconds a pass of
            # all the sets takes (the round robin alone left 10-15% between runs).
            # And one `matches` call per event, as code that routes events one at a time runs.
            paired = paired_pass(ruleset, work, loads, tally, one_by_one=True)
            set_times[spec.name].append(paired.matching)
            paired_orjson[spec.name].append(paired.loading)
            one_by_one[spec.name].append(paired.one_by_one)
    if loads is not None:
        orjson_times.append(loads_pass(loads, lines))  # and once more after the last set

    results = []
    for spec, _, compile_seconds in compiled:
        counts = [tallies[spec.name].get(name, 0) for name, _ in spec.rules]
        result = SetResult(
            spec.name, len(spec.rules), compile_seconds, events, set_times[spec.name], counts, None, ""
        )
        result.orjson_seconds = paired_orjson[spec.name]
        result.one_by_one_seconds = one_by_one[spec.name]
        if spec.name in expected:
            result.expected, result.expected_from = expected[spec.name], expected_from
        else:
            result.expected_from = "not checked"
        if result.expected is not None:
            result.wrong = check(result.counts, result.expected, spec.rules)
        say(
            f"{spec.name}: {result.events_per_s:,.0f} events/s "
            f"({spread_text(events, result.pass_seconds)}), "
            + ("counts ok" if result.ok else f"{len(result.wrong)} WRONG COUNTS")
        )
        results.append(result)

    yardsticks = []
    if orjson_times:
        yardsticks.append(Yardstick("orjson.loads", events, orjson_times))
    if json_times:
        yardsticks.append(Yardstick("json.loads", events, json_times))
    yardsticks.append(Yardstick("empty", events, floor_times))
    orjson = next((y for y in yardsticks if y.name == "orjson.loads"), None)
    for result in results:
        result.reference_ratio = reference_ratio(result.name)
        if result.pass_ratios:
            result.ratio = statistics.median(result.pass_ratios)
        elif orjson is not None:
            result.ratio = result.events_per_s / orjson.events_per_s
    return CitylotsResult(events, whole_file, yardsticks, results)
