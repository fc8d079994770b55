"""citylots2 through `RuleSet.matches_many` beside a bare pass over the same bytes.

    python benches/compare_quote_count.py [--passes 5] [--set EXACT ...] [--before path/to/_core.so]

The bare pass is `line.count(b'"')` over every line: a yardstick for how close matching comes to
reading the bytes once. Events are the citylots2 lines that `rulebus bench --shared DIR` generated
into the cache; rule sets from DIR's `citylots2-rulesets.json`. `matches_many` takes batches of
10,000 events, as `rulebus bench` does. With ``--before``, the native module built at another
commit (a copy of its `_core*.so`) is loaded beside this one and the two take turns in every
pass, so that machine noise hits them alike; the match counts of both are checked equal.
Figures are the median of the passes; ratios are taken per pass, then their median.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.machinery
import importlib.util
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import rulebus
from rulebus.bench.data import default_cache

BATCH = 10_000


def load_native(path: Path) -> ModuleType:
    """Another build of the native module, beside the one rulebus imported."""
    loader = importlib.machinery.ExtensionFileLoader("rulebus._core", str(path))
    spec = importlib.util.spec_from_file_location("rulebus._core", path, loader=loader)
    if spec is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def rules_of(raw: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """A set's rules as (name, pattern text); a combined set is its members' rules."""
    spec = raw[name]
    if "rules" in spec:
        return [(f"{name}-{i}", json.dumps(rule)) for i, rule in enumerate(spec["rules"])]
    return [rule for member in spec["union_of"] for rule in rules_of(raw, member)]


def rate(lines: list[bytes], run: Callable[[], Any]) -> tuple[float, Any]:
    """Events per second of one pass, and what the pass returned."""
    start = time.perf_counter()
    out = run()
    return len(lines) / (time.perf_counter() - start), out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--set", action="append", dest="sets", help="only this rule set (repeatable)")
    parser.add_argument("--before", type=Path, help="another build of the native module")
    shared = Path(__file__).resolve().parents[2] / "shared" / "bench"
    parser.add_argument("--shared", type=Path, default=shared, help="the citylots2 material")
    parser.add_argument("--cache", type=Path, default=default_cache())
    options = parser.parse_args()
    lines = gzip.decompress((options.cache / "citylots2.json.gz").read_bytes()).splitlines()
    raw = json.loads((options.shared / "citylots2-rulesets.json").read_text())
    batches = [lines[i : i + BATCH] for i in range(0, len(lines), BATCH)]
    modules: dict[str, ModuleType] = {"HEAD": rulebus._core}
    if options.before is not None:
        modules = {"before": load_native(options.before), **modules}
    names = ["(no rules)"] + (options.sets or [name for name, spec in raw.items() if isinstance(spec, dict)])

    def count() -> None:
        for line in lines:
            line.count(b'"')

    sides = list(modules)
    print(f"{len(lines):,} events, {options.passes} passes; events/s, median")
    ratio_columns = " | ".join(
        [*(f"count ÷ {side}" for side in sides), *(["HEAD ÷ before"] * (len(sides) > 1))]
    )
    print("| rule set | `bytes.count` | " + " | ".join(sides) + " | " + ratio_columns + " |")
    print("|---|---:|" + "---:|" * (2 * len(sides) + (len(sides) > 1)))
    for name in names:
        rulesets = {}
        for side, module in modules.items():
            ruleset = module.RuleSet()
            for rule, pattern in [] if name == "(no rules)" else rules_of(raw, name):
                ruleset.add(rule, pattern)
            rulesets[side] = ruleset
        runs: dict[str, list[float]] = {side: [] for side in ["count", *sides]}
        found: dict[str, int] = {}
        for _ in range(options.passes):
            runs["count"].append(rate(lines, count)[0])
            for side, ruleset in rulesets.items():
                events_per_s, results = rate(lines, lambda r=ruleset: [r.matches_many(b) for b in batches])
                runs[side].append(events_per_s)
                found[side] = sum(len(matched) for batch in results for matched in batch)
        if len(set(found.values())) > 1:
            raise SystemExit(f"{name}: the builds disagree on the number of matches: {found}")
        median = {side: statistics.median(values) for side, values in runs.items()}
        ratios = [statistics.median(c / s for c, s in zip(runs["count"], runs[side])) for side in sides]
        if len(sides) > 1:
            ratios.append(statistics.median(h / b for h, b in zip(runs["HEAD"], runs["before"])))
        print(
            f"| {name} | {median['count']:,.0f} | "
            + " | ".join(f"{median[side]:,.0f}" for side in sides)
            + " | "
            + " | ".join(f"{r:.2f}" for r in ratios)
            + " |",
            flush=True,
        )


if __name__ == "__main__":
    main()
