"""The citylots2 material: where it is, the data generated once into a cache, the rule sets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

GENERATOR = "gen_citylots2_synth.py"
RULESETS = "citylots2-rulesets.json"
DATA = "citylots2.json.gz"


class MaterialError(RuntimeError):
    """The benchmark's material cannot be found or made."""


def shared_dir(given: Path | None) -> Path:
    """The folder of the generator and the rule sets: ``--shared``, else $RULEBUS_SHARED/bench,
    else shared/bench in the parent of the current directory (the workload's folder beside the
    repository, see README, 'Development')."""
    if given is not None:
        candidates = [given, given / "bench"]
    elif os.environ.get("RULEBUS_SHARED"):
        candidates = [Path(os.environ["RULEBUS_SHARED"]) / "bench"]
    else:
        candidates = [Path("..") / "shared" / "bench"]
    for folder in candidates:
        if (folder / RULESETS).is_file():
            return folder
    raise MaterialError(
        f"no {RULESETS} in {' or '.join(str(c) for c in candidates)} "
        "(give the folder with --shared or $RULEBUS_SHARED)"
    )


def ensure_data(shared: Path, cache: Path, say: Callable[[str], None] = lambda _: None) -> Path:
    """The generated citylots2 file in the cache folder, generated first if absent."""
    target = cache / DATA
    if target.is_file():
        return target
    generator = shared / GENERATOR
    if not generator.is_file():
        raise MaterialError(f"no {GENERATOR} in {shared}")
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / (DATA + ".partial")
    say(f"generating {target} once with {generator.name} (about a minute)")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(generator), str(partial)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise MaterialError(f"{GENERATOR} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    partial.replace(target)  # whole or not at all: an interrupted run leaves no half file behind
    say(f"generated in {time.perf_counter() - start:.0f} s")
    return target


@dataclass
class RuleSetSpec:
    """One citylots2 rule set: its rules as (name, pattern text) and the expected counts."""

    name: str
    rules: list[tuple[str, str]]
    expected: list[int] | None  # per rule, in order, on the whole generated file
    members: list[str]  # the sets a combined set is the union of (empty for a plain set)


def load_rulesets(shared: Path) -> list[RuleSetSpec]:
    """Every rule set of citylots2-rulesets.json, combined sets built as their members' union."""
    raw: dict[str, Any] = json.loads((shared / RULESETS).read_text())
    return rulesets_from(raw)


def rulesets_from(raw: dict[str, Any]) -> list[RuleSetSpec]:
    def own_rules(name: str) -> list[tuple[str, str]]:
        spec = raw[name]
        if "rules" not in spec:
            raise MaterialError(f"{name}: a member of a union must list its own rules")
        return [(f"{name}/{i}", json.dumps(rule)) for i, rule in enumerate(spec["rules"])]

    specs = []
    for name, spec in raw.items():
        members = list(spec.get("union_of", []))
        rules = [rule for member in members for rule in own_rules(member)] if members else own_rules(name)
        expected = spec.get("counts_on_synthetic_data")
        if expected is not None and len(expected) != len(rules):
            raise MaterialError(f"{name}: {len(expected)} expected counts for {len(rules)} rules")
        specs.append(RuleSetSpec(name, rules, expected, members))
    return specs
