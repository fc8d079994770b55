"""Single-pattern matches per second: rulebus, moto and LocalStack, measured in one run.

    python benches/compare_single.py [--repeats 5] [--seconds 0.2]

Each figure is the median of several timed loops of one Python call per match (the pattern
compiled once). The engines take turns within each repeat, so machine noise hits them alike;
compare the ratios, not absolute figures across runs (see ../shared/bench/README.md).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from typing import Any, Callable

from single_cases import (
    CASES,
    EVENT,
    EVENT_BYTES,
    EVENT_STR,
    LOCALSTACK_MISSING,
    localstack_matcher,
    moto_matcher,
    rulebus_matcher,
)

# (column, make a matcher from the pattern text, the event it is given)
ENGINES: list[tuple[str, Callable[[str], Callable[[Any], bool]], Any]] = [
    ("rulebus bytes", rulebus_matcher, EVENT_BYTES),
    ("rulebus str", rulebus_matcher, EVENT_STR),
    ("rulebus dict", rulebus_matcher, EVENT),
    ("moto dict", moto_matcher, EVENT),
]
if LOCALSTACK_MISSING is None:
    ENGINES.append(("localstack dict", localstack_matcher, EVENT))


def loop(fn: Callable[[Any], Any], arg: Any, n: int) -> float:
    """Seconds for n calls of fn(arg)."""
    start = time.perf_counter()
    for _ in range(n):
        fn(arg)
    return time.perf_counter() - start


def calibrate(fn: Callable[[Any], Any], arg: Any, seconds: float) -> int:
    """A loop count that takes about `seconds`."""
    n = 16
    while True:
        elapsed = loop(fn, arg, n)
        if elapsed >= seconds / 4:
            return max(1, int(n * seconds / elapsed))
        n *= 4


def measure(repeats: int, seconds: float) -> tuple[dict[tuple[str, str], float], list[str]]:
    """matches/s per (case, engine), and the results that disagree with AWS."""
    rates: dict[tuple[str, str], float] = {}
    wrong: list[str] = []
    for case in CASES:
        runs: list[tuple[str, Callable[[Any], bool], Any, int]] = []
        for column, make, event in ENGINES:
            fn = make(case.pattern)
            got = fn(event)
            if got is not case.expected:
                wrong.append(f"{column} on {case.name}: {got!r}, AWS: {case.expected!r}")
            runs.append((column, fn, event, calibrate(fn, event, seconds)))
        samples: dict[str, list[float]] = {column: [] for column, *_ in runs}
        for _ in range(repeats):
            for column, fn, event, n in runs:
                samples[column].append(n / loop(fn, event, n))
        for column, values in samples.items():
            rates[case.name, column] = statistics.median(values)
    return rates, wrong


def orjson_rate(repeats: int, seconds: float) -> float | None:
    """orjson.loads of the event per second: the yardstick that makes figures portable."""
    try:
        import orjson
    except ImportError:
        return None
    n = calibrate(orjson.loads, EVENT_BYTES, seconds)
    return statistics.median(n / loop(orjson.loads, EVENT_BYTES, n) for _ in range(repeats))


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def table(rates: dict[tuple[str, str], float]) -> str:
    columns = [column for column, *_ in ENGINES]
    ratios = [("bytes/moto", "moto dict")]
    if LOCALSTACK_MISSING is None:
        ratios.append(("bytes/localstack", "localstack dict"))
    header = ["pattern", *columns, *(label for label, _ in ratios)]
    rows = []
    names = [case.name for case in CASES]
    for name in [*names, "geomean"]:
        if name == "geomean":
            values = {c: geomean([rates[n, c] for n in names]) for c in columns}
        else:
            values = {c: rates[name, c] for c in columns}
        row = [name, *(f"{values[c]:,.0f}" for c in columns)]
        row += [f"{values['rulebus bytes'] / values[base]:,.1f}x" for _, base in ratios]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        return "  ".join(cells)

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(r) for r in rows[:-1]), rule, fmt(rows[-1])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed loops per figure (median)")
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one timed loop")
    args = parser.parse_args(argv)

    print(
        f"one {len(EVENT_BYTES):,}-byte event, one pattern, one Python call per match; "
        f"matches/s, median of {args.repeats}"
    )
    if LOCALSTACK_MISSING is not None:
        print(f"LocalStack skipped: its rule engine is not importable ({LOCALSTACK_MISSING})")
    rates, wrong = measure(args.repeats, args.seconds)
    print()
    print(table(rates))
    yardstick = orjson_rate(args.repeats, args.seconds)
    if yardstick is not None:
        bytes_rate = geomean([rates[case.name, "rulebus bytes"] for case in CASES])
        print(
            f"\nyardstick: orjson.loads of the same event: {yardstick:,.0f}/s "
            f"(rulebus bytes, geomean: {bytes_rate / yardstick:.2f}x that)"
        )
    if wrong:
        print("\nresults that differ from AWS:")
        for line in wrong:
            print(f"  {line}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
