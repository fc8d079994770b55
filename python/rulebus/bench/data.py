"""The citylots2 material: the rule sets, the events (generated once into a cache) and the counts
every run is checked against.

By default the material is the workload shipped in ``rulebus.bench.workload``. ``--shared DIR``
runs another copy of the citylots2 material instead: a folder with ``gen_citylots2_synth.py`` (a
generator run as a script) and ``citylots2-rulesets.json`` (the rule sets with their expected
counts), as the rulebus repository keeps beside itself for its own benchmark runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rulebus.bench import workload
from rulebus.bench.workload import generator
from rulebus.bench.workload.expected import SMALL_EVENTS, digest

SHARED_GENERATOR = "gen_citylots2_synth.py"
SHARED_RULESETS = "citylots2-rulesets.json"
SHARED_DATA = "citylots2.json.gz"

Say = Callable[[str], None]


class MaterialError(RuntimeError):
    """The benchmark's material cannot be found or made."""


def default_cache() -> Path:
    """The user's cache folder for rulebus, as each system names it."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "rulebus" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "rulebus"
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG Base Directory Specification ignores a relative $XDG_CACHE_HOME.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "rulebus"


@dataclass
class RuleSetSpec:
    """One citylots2 rule set: its rules as (name, pattern text) and the expected counts."""

    name: str
    rules: list[tuple[str, str]]
    expected: list[int] | None  # per rule, in order, on the whole file
    members: list[str]  # the sets a combined set is the union of (empty for a plain set)


@dataclass
class Material:
    """What a citylots2 run measures and checks."""

    description: str  # for the report: which events, made how
    specs: list[RuleSetSpec]
    data: Path
    sha256: str | None  # of the file's lines, when known: the cached file is checked against it
    expected_from: str  # where the whole file's counts come from, for the report
    # Stored counts on subsets (every k-th event), by the number of events.
    subset_counts: dict[int, dict[str, list[int]]]
    shipped: bool


def rulesets_from(raw: dict[str, Any], counts: dict[str, list[int]] | None = None) -> list[RuleSetSpec]:
    """Every rule set, combined sets built as their members' union. The expected counts come from
    ``counts`` (by set name) when given, else from each set's ``counts_on_synthetic_data``."""

    def own_rules(name: str) -> list[tuple[str, str]]:
        spec = raw[name]
        if "rules" not in spec:
            raise MaterialError(f"{name}: a member of a union must list its own rules")
        return [(f"{name}/{i}", json.dumps(rule)) for i, rule in enumerate(spec["rules"])]

    specs = []
    for name, spec in raw.items():
        members = list(spec.get("union_of", []))
        rules = [rule for member in members for rule in own_rules(member)] if members else own_rules(name)
        if counts is None:
            expected = spec.get("counts_on_synthetic_data")
        else:
            expected = union_counts(counts, members) if members else counts.get(name)
        if expected is not None and len(expected) != len(rules):
            raise MaterialError(f"{name}: {len(expected)} expected counts for {len(rules)} rules")
        specs.append(RuleSetSpec(name, rules, expected, members))
    return specs


def union_counts(counts: dict[str, list[int]], members: list[str]) -> list[int] | None:
    """A combined set's counts: its members', in order (None when one is missing)."""
    if not all(m in counts for m in members):
        return None
    return [n for member in members for n in counts[member]]


# --- the shipped workload -------------------------------------------------------------------------


def shipped(
    cache: Path, small: bool = False, counts_file: Path | None = None, say: Say = lambda _: None
) -> Material:
    """The shipped workload, its events generated into the cache once and checked by digest."""
    events = SMALL_EVENTS if small else generator.EVENTS
    stored = workload.stored_counts(counts_file or workload.COUNTS)
    entry = stored.get("generated", {}).get(str(events))
    if entry is None:
        raise MaterialError(f"no stored counts for {events:,} generated events")
    data = cache / f"citylots2-generated-{stored['seed']}-{events}.jsonl.gz"
    if not data.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        say(f"generating {events:,} events into {data} (once; about {max(1, events // 12_000)} s)")
        start = time.perf_counter()
        written = generator.write(data, events)
        say(f"generated in {time.perf_counter() - start:.0f} s")
        if written != entry["sha256"]:
            # The stored counts were made on other events: checking against them would mislead.
            data.unlink()
            raise MaterialError(
                f"this Python generated other events than the counts were made on "
                f"(sha256 {written}, expected {entry['sha256']}): please report it"
            )
    subsets = {int(limit): counts for limit, counts in entry.get("every_kth", {}).items()}
    return Material(
        f"citylots2-shaped events made by rulebus's generator (fixed seed), {events:,} of them",
        rulesets_from(workload.rulesets(), entry["counts"]),
        data,
        entry["sha256"],
        "stored counts",
        subsets,
        shipped=True,
    )


def check_digest(material: Material, lines: list[bytes]) -> None:
    """Fails when the cached file is not what the generator writes (edited, or half copied)."""
    if material.sha256 is not None and digest(lines) != material.sha256:
        raise MaterialError(
            f"{material.data} is not the generator's output (its digest differs): delete it, and the "
            "next run generates it again"
        )


# --- a folder of citylots2 material (--shared) ----------------------------------------------------


def shared_dir(given: Path) -> Path:
    """The folder of the generator and the rule sets: ``given``, or its ``bench`` folder."""
    candidates = [given, given / "bench"]
    for folder in candidates:
        if (folder / SHARED_RULESETS).is_file():
            return folder
    raise MaterialError(f"no {SHARED_RULESETS} in {' or '.join(str(c) for c in candidates)}")


def from_folder(given: Path, cache: Path, say: Say = lambda _: None) -> Material:
    folder = shared_dir(given)
    raw: dict[str, Any] = json.loads((folder / SHARED_RULESETS).read_text())
    return Material(
        f"the citylots2 material of {folder} (its generator's output)",
        rulesets_from(raw),
        ensure_data(folder, cache, say),
        None,
        "the folder's published counts",
        {},
        shipped=False,
    )


def ensure_data(shared: Path, cache: Path, say: Say = lambda _: None) -> Path:
    """The folder's generated citylots2 file in the cache folder, generated first if absent."""
    target = cache / SHARED_DATA
    if target.is_file():
        return target
    script = shared / SHARED_GENERATOR
    if not script.is_file():
        raise MaterialError(f"no {SHARED_GENERATOR} in {shared}")
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / (SHARED_DATA + ".partial")
    say(f"generating {target} once with {script} (about a minute)")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), str(partial)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise MaterialError(f"{SHARED_GENERATOR} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    partial.replace(target)  # whole or not at all: an interrupted run leaves no half file behind
    say(f"generated in {time.perf_counter() - start:.0f} s")
    return target
