"""Timing, counting and memory: the measurements every part of the harness shares.

Only the engine's call is inside a timer: batches are cut and match counts tallied outside it,
and the garbage collector is off while a pass runs (as timeit does), so that figures measure the
engine and not the harness.
"""

from __future__ import annotations

import gc
import itertools
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import rulebus

Batches = list[list[bytes]]


def batches(lines: Sequence[bytes], size: int) -> Batches:
    """The lines cut into lists of ``size`` (cut once, before any timing)."""
    return [list(lines[i : i + size]) for i in range(0, len(lines), size)]


@contextmanager
def no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def match_pass(ruleset: rulebus.RuleSet, work: Batches, counts: Counter[str] | None = None) -> float:
    """Seconds spent in ``matches_many`` over every batch; tallies match counts when given."""
    with no_gc():
        return _matching(ruleset, work, counts)


def _matching(ruleset: rulebus.RuleSet, work: Batches, counts: Counter[str] | None) -> float:
    """``match_pass``'s loop (the caller turns the collector off): only the calls are timed."""
    matches_many = ruleset.matches_many
    perf = time.perf_counter
    spent = 0.0
    for batch in work:
        start = perf()
        results = matches_many(batch)
        spent += perf() - start
        if counts is not None:
            counts.update(itertools.chain.from_iterable(results))
    return spent


def count_and_time(ruleset: rulebus.RuleSet, work: Batches, passes: int) -> tuple[Counter[str], list[float]]:
    """Match counts per rule (from the first pass) and the seconds of each pass."""
    counts: Counter[str] = Counter()
    times = [match_pass(ruleset, work, counts)]
    times += [match_pass(ruleset, work) for _ in range(passes - 1)]
    return counts, times


SEGMENTS = 8  # per paired pass: each a stretch of the lines, timed under each side in turn


class Paired(NamedTuple):
    """One paired pass: seconds in ``matches_many``, in ``loads``, and (when asked for) in one
    ``matches`` call per event, all over the same lines."""

    matching: float
    loading: float
    one_by_one: float = 0.0


def paired_pass(
    ruleset: rulebus.RuleSet,
    work: Batches,
    loads: Callable[[bytes], Any],
    counts: Counter[str] | None = None,
    one_by_one: bool = False,
) -> Paired:
    """Seconds in ``matches_many`` and seconds in ``loads`` (and, with ``one_by_one``, in a loop
    of ``matches`` calls) over the same batches, taken in turn a segment at a time (an eighth of
    the batches), so that a change in the machine's speed during the pass slows all alike. The
    order rotates from segment to segment, so that no side always finds the lines in the cache
    another has just read."""
    perf = time.perf_counter
    size = max(1, -(-len(work) // SEGMENTS))
    sides = (0, 1, 2) if one_by_one else (0, 1)
    spent = [0.0, 0.0, 0.0]
    with no_gc():
        for index, first in enumerate(range(0, len(work), size)):
            segment = work[first : first + size]
            turn = index % len(sides)
            for side in sides[turn:] + sides[:turn]:
                if side == 0:
                    spent[0] += _matching(ruleset, segment, counts)
                    continue
                call = loads if side == 1 else ruleset.matches
                start = perf()
                for batch in segment:
                    for line in batch:
                        call(line)
                spent[side] += perf() - start
    return Paired(*spent)


def loads_pass(loads: Callable[[bytes], Any], lines: Sequence[bytes]) -> float:
    """Seconds for ``loads`` over every line, one Python call each."""
    with no_gc():
        start = time.perf_counter()
        for line in lines:
            loads(line)
        return time.perf_counter() - start


NO_ORJSON = "orjson is not installed: no yardstick, so no ratios (pip install orjson)"


def orjson_loads() -> Callable[[bytes], Any] | None:
    try:
        import orjson
    except ImportError:
        return None
    loads: Callable[[bytes], Any] = orjson.loads  # typed alike whether or not orjson is installed
    return loads


def json_loads() -> Callable[[bytes], Any]:
    """orjson.loads when installed, else the standard library's."""
    fast = orjson_loads()
    if fast is not None:
        return fast
    import json

    return json.loads


def rate(events: int, seconds: Sequence[float]) -> float:
    """Events per second of the median pass."""
    median = statistics.median(seconds)
    return events / median if median > 0 else float("inf")


def spread(events: int, seconds: Sequence[float]) -> tuple[float, float]:
    """Events per second of the slowest and of the fastest pass."""
    slowest, fastest = max(seconds), min(seconds)
    return (
        events / slowest if slowest > 0 else float("inf"),
        events / fastest if fastest > 0 else float("inf"),
    )


def spread_text(events: int, seconds: Sequence[float]) -> str:
    """The slowest and fastest pass against the median, as "-3% +5%" (one pass: no spread)."""
    if len(seconds) < 2:
        return "one pass"
    median = rate(events, seconds)
    low, high = spread(events, seconds)
    return f"{low / median - 1:+.0%} {high / median - 1:+.0%}"


def compile_rules(rules: Sequence[tuple[str, str | bytes]]) -> tuple[rulebus.RuleSet, float]:
    """A fresh RuleSet of the rules, and the seconds that adding them all took."""
    ruleset = rulebus.RuleSet()
    add = ruleset.add
    with no_gc():
        start = time.perf_counter()
        for name, pattern in rules:
            add(name, pattern)
        spent = time.perf_counter() - start
    return ruleset, spent


def _release_free_memory() -> None:
    """Hands freed heap pages back to the system (glibc), so that an RSS delta shows new memory
    rather than pages reused from rule sets freed earlier in the run."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_bytes() -> int | None:
    """Resident memory of this process (Linux), or None where /proc is absent."""
    try:
        with open("/proc/self/statm") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Memory:
    stats_bytes: int | None  # RuleSet.stats()["bytes"], the engine's own estimate
    rss_delta: int | None  # resident memory grown while the rules were added
    states: int | None


def compile_measuring_memory(
    rules: Sequence[tuple[str, str | bytes]],
) -> tuple[rulebus.RuleSet, float, Memory]:
    gc.collect()
    _release_free_memory()
    before = rss_bytes()
    ruleset, seconds = compile_rules(rules)
    gc.collect()
    after = rss_bytes()
    stats = getattr(ruleset, "stats", None)
    info: dict[str, int] = stats() if stats is not None else {}
    memory = Memory(
        stats_bytes=info.get("bytes"),
        rss_delta=(after - before) if before is not None and after is not None else None,
        states=info.get("states"),
    )
    return ruleset, seconds, memory


def threads_pass(ruleset: rulebus.RuleSet, work: Batches, threads: int) -> float:
    """Wall seconds for ``threads`` threads sharing the batches (round robin) on one RuleSet."""
    shares = [work[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def worker(share: Batches) -> None:
        barrier.wait()
        try:
            for batch in share:
                ruleset.matches_many(batch)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(share,)) for share in shares]
    with no_gc():
        for thread in pool:
            thread.start()
        start = time.perf_counter()
        barrier.wait()
        for thread in pool:
            thread.join()
        spent = time.perf_counter() - start
    if errors:
        raise errors[0]
    return spent
