"""Per-rule match counts from the reference matcher, and the command that stores them.

    python -m rulebus.bench.workload.expected     # rewrites counts.json (a few minutes)

Run it after changing the generator or the rule sets; ``rulebus bench`` checks the engine's
counts against the stored ones on every run over the whole file, and against this module's
counts on a subset.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rulebus.bench.workload import COUNTS, generator, rulesets
from rulebus.bench.workload.reference_matcher import Pattern

# The workloads whose counts are stored: the default and the small one (``rulebus bench --small``).
SMALL_EVENTS = 5_000
SIZES = (generator.EVENTS, SMALL_EVENTS)
# Subsets of the default workload whose counts are stored too (``rulebus bench --quick``).
SUBSETS = (30_000,)


def expected_counts(raw: dict[str, Any], lines: Iterable[bytes]) -> dict[str, list[int]]:
    """Per rule set, how many of the events each of its own rules matches (unions left out)."""
    compiled = {
        name: [Pattern(rule) for rule in spec["rules"]] for name, spec in raw.items() if "rules" in spec
    }
    counts = {name: [0] * len(patterns) for name, patterns in compiled.items()}
    for line in lines:
        event = json.loads(line)
        for name, patterns in compiled.items():
            tally = counts[name]
            for i, pattern in enumerate(patterns):
                if pattern.matches(event):
                    tally[i] += 1
    return counts


def digest(lines: Iterable[bytes]) -> str:
    """sha256 of the lines as written, one newline after each."""
    hashed = hashlib.sha256()
    for line in lines:
        hashed.update(line)
        hashed.update(b"\n")
    return hashed.hexdigest()


def every_kth(lines: Sequence[bytes], limit: int) -> list[bytes]:
    """``limit`` events spread over the whole file (which is sorted by MAPBLKLOT)."""
    if limit >= len(lines):
        return list(lines)
    return [lines[i * len(lines) // limit] for i in range(limit)]


def _counted(lines: Sequence[bytes]) -> dict[str, Any]:
    return {"sha256": digest(lines), "counts": expected_counts(rulesets(), lines)}


def main() -> None:
    generated: dict[str, Any] = {}
    for size in SIZES:
        print(f"{size:,} events: generating, then counting", file=sys.stderr)
        lines = list(generator.lines(size))
        entry = _counted(lines)
        if size == generator.EVENTS:
            entry["every_kth"] = {
                str(limit): expected_counts(rulesets(), every_kth(lines, limit)) for limit in SUBSETS
            }
        generated[str(size)] = entry
    stored = {
        "about": "Matches per rule of rulesets.json on generator.lines(N) for each N, and on the "
        "subsets every_kth(lines, limit) of the default N, as the reference matcher counts them.",
        "seed": generator.SEED,
        "generated": generated,
    }
    # One line per rule set: a diff of the file then shows which counts moved.
    text = re.sub(r"\[[\d,\s]*\]", lambda m: json.dumps(json.loads(m.group(0))), json.dumps(stored, indent=1))
    COUNTS.write_text(text + "\n")
    print(f"wrote {COUNTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
