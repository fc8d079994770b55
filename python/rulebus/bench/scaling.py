"""Rule-count scaling: many rules generated from the citylots2 events.

Each kind's rules are drawn (with a fixed seed) from the values the events carry, so every rule
can match; each rule's count is computed independently in Python from those values and checked
against the engine's.
"""

from __future__ import annotations

import bisect
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Callable

from rulebus.bench.measure import Batches, Memory, compile_measuring_memory, count_and_time, json_loads, rate

SEED = 20261128
X_RANGE = (-122.52, -122.36)
MAX_WIDTH = 0.01
# Resident memory moves in pages and allocator arenas: growth below this says nothing per rule.
RSS_RESOLUTION = 256 * 1024


@dataclass
class Fields:
    """The event values the generated rules look at, one entry per event."""

    mapblklot: list[str | None]
    st_type: list[str | None]
    x: list[float | None]

    @classmethod
    def of(cls, lines: Sequence[bytes]) -> Fields:
        loads = json_loads()
        mapblklot: list[str | None] = []
        st_type: list[str | None] = []
        xs: list[float | None] = []
        for line in lines:
            event = loads(line)
            properties = event.get("properties") or {}
            first = (event.get("geometry") or {}).get("firstCoordinates") or {}
            mbl, st, x = properties.get("MAPBLKLOT"), properties.get("ST_TYPE"), first.get("x")
            mapblklot.append(mbl if isinstance(mbl, str) else None)
            st_type.append(st if isinstance(st, str) else None)
            xs.append(float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None)
        return cls(mapblklot, st_type, xs)

    def head(self, n: int) -> Fields:
        return Fields(self.mapblklot[:n], self.st_type[:n], self.x[:n])


Rules = list[tuple[str, str]]
Expected = list[int]


@dataclass
class Made:
    """Generated rules, how to count their matches on given events, and what to say about them."""

    rules: Rules
    expected: Callable[[Fields], Expected]
    note: str = ""


def _escape(literal: str) -> str:
    """A literal inside a wildcard pattern."""
    return literal.replace("\\", "\\\\").replace("*", "\\*")


def exact_rules(fields: Fields, n: int, rng: random.Random) -> Made | None:
    distinct = sorted({v for v in fields.mapblklot if v is not None})
    if len(distinct) < n:
        return None
    values = rng.sample(distinct, n)
    rules = [(f"exact/{i}", json.dumps({"properties": {"MAPBLKLOT": [v]}})) for i, v in enumerate(values)]

    def expected(f: Fields) -> Expected:
        freq = Counter(f.mapblklot)
        return [freq.get(v, 0) for v in values]

    return Made(rules, expected)


def prefix_rules(fields: Fields, n: int, rng: random.Random) -> Made | None:
    distinct = sorted({v[:5] for v in fields.mapblklot if v is not None and len(v) >= 5})
    note = ""
    if len(distinct) >= n:
        prefixes = rng.sample(distinct, n)
    else:
        # The generated file has fewer distinct prefixes than the real one: the rest are 5-digit
        # prefixes that no event has (they must still cost nothing when they do not match).
        present = set(distinct)
        absent = [p for p in (f"{k:05d}" for k in range(100_000)) if p not in present]
        if len(distinct) + len(absent) < n:
            return None
        prefixes = distinct + rng.sample(absent, n - len(distinct))
        rng.shuffle(prefixes)
        note = f"{n - len(distinct):,} of the prefixes are in no event (the data has {len(distinct):,})"
    rules = [
        (f"prefix/{i}", json.dumps({"properties": {"MAPBLKLOT": [{"prefix": p}], "ST_TYPE": ["ST"]}}))
        for i, p in enumerate(prefixes)
    ]

    def expected(f: Fields) -> Expected:
        # Every prefix has five characters, so an event matches at most one of them.
        freq = Counter(
            m[:5] for m, st in zip(f.mapblklot, f.st_type) if m is not None and st == "ST" and len(m) >= 5
        )
        return [freq.get(p, 0) for p in prefixes]

    return Made(rules, expected, note)


def numeric_rules(fields: Fields, n: int, rng: random.Random) -> Made:
    ranges = []
    for _ in range(n):
        lo = round(rng.uniform(*X_RANGE), 6)
        hi = round(lo + rng.uniform(MAX_WIDTH / 100, MAX_WIDTH * 0.99), 6)
        ranges.append((lo, hi))
    rules = [
        (
            f"numeric/{i}",
            json.dumps({"geometry": {"firstCoordinates": {"x": [{"numeric": [">", lo, "<=", hi]}]}}}),
        )
        for i, (lo, hi) in enumerate(ranges)
    ]

    def expected(f: Fields) -> Expected:
        xs = sorted(x for x in f.x if x is not None)
        return [bisect.bisect_right(xs, hi) - bisect.bisect_right(xs, lo) for lo, hi in ranges]

    return Made(rules, expected)


def wildcard_rules(fields: Fields, n: int, rng: random.Random) -> Made | None:
    """``ab*cde``: the first two and last three characters of MAPBLKLOT values."""
    distinct = sorted({(v[:2], v[-3:]) for v in fields.mapblklot if v is not None and len(v) >= 6})
    if len(distinct) < n:
        return None
    pairs = rng.sample(distinct, n)
    rules = [
        (
            f"wildcard/{i}",
            json.dumps({"properties": {"MAPBLKLOT": [{"wildcard": f"{_escape(a)}*{_escape(b)}"}]}}),
        )
        for i, (a, b) in enumerate(pairs)
    ]

    def expected(f: Fields) -> Expected:
        freq = Counter((v[:2], v[-3:]) for v in f.mapblklot if v is not None and len(v) >= 5)
        return [freq.get(pair, 0) for pair in pairs]

    return Made(rules, expected)


def leading_star_rules(fields: Fields, n: int, rng: random.Random) -> Made | None:
    """``*dddd``: the last four characters of MAPBLKLOT values."""
    distinct = sorted({v[-4:] for v in fields.mapblklot if v is not None and len(v) >= 4})
    if len(distinct) < n:
        return None
    tails = rng.sample(distinct, n)
    rules = [
        (f"star/{i}", json.dumps({"properties": {"MAPBLKLOT": [{"wildcard": f"*{_escape(t)}"}]}}))
        for i, t in enumerate(tails)
    ]

    def expected(f: Fields) -> Expected:
        freq = Counter(v[-4:] for v in f.mapblklot if v is not None and len(v) >= 4)
        return [freq.get(t, 0) for t in tails]

    return Made(rules, expected)


KINDS: dict[str, tuple[str, Callable[[Fields, int, random.Random], Made | None]]] = {
    "exact": ("exact `properties.MAPBLKLOT` values taken from the data", exact_rules),
    "prefix": ("5-char prefix of MAPBLKLOT and `ST_TYPE` = `ST`", prefix_rules),
    "numeric": ("numeric range `> lo, <= hi` on `geometry.firstCoordinates.x`", numeric_rules),
    "wildcard": ("wildcard `ab*cde` built from MAPBLKLOT values", wildcard_rules),
    "leading-star": ("wildcard `*dddd` (leading star)", leading_star_rules),
}

FULL_POINTS: list[tuple[str, int]] = [
    ("exact", 10),
    ("exact", 1_000),
    ("exact", 10_000),
    ("exact", 100_000),
    ("prefix", 10),
    ("prefix", 1_000),
    ("prefix", 10_000),
    ("numeric", 10),
    ("numeric", 1_000),
    ("numeric", 10_000),
    ("wildcard", 10),
    ("wildcard", 1_000),
    ("leading-star", 10),
    ("leading-star", 1_000),
]
QUICK_POINTS: list[tuple[str, int]] = [
    ("exact", 10),
    ("exact", 10_000),
    ("prefix", 1_000),
    ("numeric", 10),
    ("numeric", 1_000),
    ("wildcard", 1_000),
]


@dataclass
class ScalePoint:
    kind: str
    rules: int
    compile_seconds: float = 0.0
    memory: Memory | None = None
    events: int = 0
    pass_seconds: list[float] = field(default_factory=list)
    matches: int = 0  # over the events of one pass: how much each event's answer holds
    checked: int = 0
    wrong: int = 0
    first_wrong: str = ""
    note: str = ""

    @property
    def description(self) -> str:
        return KINDS[self.kind][0]

    @property
    def events_per_s(self) -> float | None:
        return rate(self.events, self.pass_seconds) if self.pass_seconds else None

    @property
    def stats_bytes_per_rule(self) -> float | None:
        if self.memory is None or self.memory.stats_bytes is None or not self.rules:
            return None
        return self.memory.stats_bytes / self.rules

    @property
    def rss_bytes_per_rule(self) -> float | None:
        """Resident memory grown per rule; None when the growth is too small to tell from noise."""
        if self.memory is None or self.memory.rss_delta is None or not self.rules:
            return None
        if self.memory.rss_delta < RSS_RESOLUTION:
            return None
        return self.memory.rss_delta / self.rules

    @property
    def matches_per_event(self) -> float | None:
        return self.matches / self.events if self.events else None

    @property
    def ok(self) -> bool:
        return self.wrong == 0


def run_point(
    kind: str,
    n: int,
    fields: Fields,
    work: Batches,
    passes: int,
    budget_seconds: float,
) -> ScalePoint:
    """One row: compile n rules of a kind, time matching, check every rule's count.

    When one pass would take longer than the budget (a slow engine, a huge rule set), the row is
    measured on the first events only, and says so."""
    point = ScalePoint(kind, n)
    made = KINDS[kind][1](fields, n, random.Random(f"{SEED}/{kind}/{n}"))
    if made is None:
        point.note = "not enough distinct values in the data"
        return point
    rules, expected_of, point.note = made.rules, made.expected, made.note
    ruleset, point.compile_seconds, point.memory = compile_measuring_memory(rules)

    events = sum(len(b) for b in work)
    if work:
        start = time.perf_counter()
        ruleset.matches_many(work[0])
        projected = (time.perf_counter() - start) * len(work)
        if projected > budget_seconds:
            keep = max(1, int(len(work) * budget_seconds / projected))
            work = work[:keep]
            events = sum(len(b) for b in work)
            point.note = "; ".join(
                filter(
                    None,
                    [point.note, f"on the first {events:,} events (a pass over all: ~{projected:,.0f} s)"],
                )
            )
    point.events = events
    tally, point.pass_seconds = count_and_time(ruleset, work, passes)
    point.matches = sum(tally.values())
    expected = expected_of(fields.head(events))
    point.checked = len(rules)
    wrong = [
        (name, tally.get(name, 0), want)
        for (name, _), want in zip(rules, expected)
        if tally.get(name, 0) != want
    ]
    point.wrong = len(wrong)
    if wrong:
        name, got, want = wrong[0]
        pattern = dict(rules)[name]
        point.first_wrong = f"{name} {pattern}: {got} matches, expected {want}"
    return point


def run_scaling(
    fields: Fields,
    work: Batches,
    points: Sequence[tuple[str, int]],
    passes: int,
    budget_seconds: float,
    say: Callable[[str], None] = lambda _: None,
) -> list[ScalePoint]:
    rows = []
    for kind, n in points:
        point = run_point(kind, n, fields, work, passes, budget_seconds)
        eps = point.events_per_s
        say(
            f"scaling {kind} x {n:,}: "
            + (f"compile {point.compile_seconds * 1000:,.0f} ms, {eps:,.0f} events/s" if eps else point.note)
            + ("" if point.ok else f", {point.wrong} WRONG COUNTS")
        )
        rows.append(point)
    return rows
