"""The workload ``rulebus bench`` ships: citylots2-shaped events and the citylots2 rule sets.

- ``generator.py`` writes the events (a fixed seed: the same bytes on every machine);
- ``rulesets.json`` holds the rule sets of the citylots2 benchmark as EventBridge patterns (the
  reference engine's, aws/event-ruler's, by name); a set with ``union_of`` is its members' rules in
  one RuleSet;
- ``reference_matcher.py`` is an EventBridge matcher in plain Python, independent of rulebus;
- ``counts.json`` holds, for every rule, how many of the generated events it matches, as the
  reference matcher counted them once (``python -m rulebus.bench.workload.expected`` writes it
  again), with the digest of the events they were counted on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RULESETS = HERE / "rulesets.json"
COUNTS = HERE / "counts.json"


def rulesets() -> dict[str, Any]:
    """The rule sets as stored: name -> {"rules": [...]} or {"union_of": [...]}."""
    raw: dict[str, Any] = json.loads(RULESETS.read_text())
    return raw


def stored_counts(path: Path = COUNTS) -> dict[str, Any]:
    """counts.json: the generator's event count and digest, and the counts per rule set."""
    raw: dict[str, Any] = json.loads(path.read_text())
    return raw
