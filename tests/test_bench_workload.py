"""The workload ``rulebus bench`` ships: its generator, its reference matcher, its stored counts,
and the command run on it from a folder that is not the repository (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
import rulebus
from helpers.bench import quiet, report_json, short_run
from rulebus.bench import BenchOptions, run
from rulebus.bench.data import SMALL_EVENTS, default_cache
from rulebus.bench.workload import generator, rulesets, stored_counts
from rulebus.bench.workload.expected import digest, expected_counts
from rulebus.bench.workload.reference_matcher import Pattern

SMALL = str(SMALL_EVENTS)


@pytest.fixture(scope="module")
def small_lines() -> list[bytes]:
    return list(generator.lines(SMALL_EVENTS))


def test_the_generator_writes_what_the_counts_were_made_on(small_lines: list[bytes]) -> None:
    assert len(small_lines) == SMALL_EVENTS
    assert digest(small_lines) == stored_counts()["generated"][SMALL]["sha256"]


def test_the_first_events_do_not_depend_on_how_many_are_asked_for() -> None:
    few = list(generator.lines(40))
    more = list(islice(generator.lines(generator.EVENTS), 38))
    assert few[:38] == more
    assert [json.loads(line)["properties"]["MAPBLKLOT"] for line in few[38:]] == list(generator.VACATED)


def test_events_have_the_citylots2_shape(small_lines: list[bytes]) -> None:
    events = [json.loads(line) for line in small_lines]
    keys = ["MAPBLKLOT", "BLKLOT", "BLOCK_NUM", "LOT_NUM", "FROM_ST", "TO_ST", "STREET", "ST_TYPE"]
    keys.append("ODD_EVEN")
    for event in events:
        assert list(event["properties"]) == keys
        geometry = event["geometry"]
        first = geometry["firstCoordinates"]
        ring = geometry["coordinates"][0] if geometry["type"] == "Polygon" else geometry["coordinates"][0][0]
        assert ring[0] == ring[-1] == first
    blocks = [e["properties"]["MAPBLKLOT"] for e in events]
    assert blocks == sorted(blocks)


def test_no_coordinate_sits_near_a_threshold_by_chance(small_lines: list[bytes]) -> None:
    """So that the counts do not depend on how precisely an engine compares numbers."""
    planted = {generator.X_EQUAL}
    for line in small_lines:
        for vertex in json.loads(line)["geometry"]["coordinates"][0]:
            for point in vertex if isinstance(vertex, list) else [vertex]:
                if point["x"] in planted:
                    continue
                assert all(abs(point["x"] - t) >= generator.MARGIN for t in generator.X_THRESHOLDS)


def test_the_reference_matcher_and_rulebus_agree_event_by_event(small_lines: list[bytes]) -> None:
    events = [json.loads(line) for line in small_lines]
    for name, spec in rulesets().items():
        for i, rule in enumerate(spec.get("rules", [])):
            ours = rulebus.Pattern(json.dumps(rule))
            reference = Pattern(rule)
            differ = [
                n
                for n, (line, event) in enumerate(zip(small_lines, events))
                if ours.matches(line) != reference.matches(event)
            ]
            assert differ == [], f"{name}/{i}: first at event {differ[:1]}"


def test_the_stored_counts_are_the_reference_matchers(small_lines: list[bytes]) -> None:
    assert expected_counts(rulesets(), small_lines) == stored_counts()["generated"][SMALL]["counts"]


def test_the_stored_counts_cover_every_rule() -> None:
    sizes = stored_counts()["generated"]
    assert set(sizes) == {str(generator.EVENTS), SMALL}
    own = {name: len(spec["rules"]) for name, spec in rulesets().items() if "rules" in spec}
    for entry in sizes.values():
        tables = [entry["counts"], *entry.get("every_kth", {}).values()]
        for table in tables:
            assert {name: len(counts) for name, counts in table.items()} == own
    # The default's counts are not all zero: every set measures matching, not only scanning.
    assert all(sum(c) > 0 for c in sizes[str(generator.EVENTS)]["counts"].values())


# --- the reference matcher on the documentation's cases -------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ({"a": ["x"]}, {"a": "x"}, True),
        ({"a": ["x"]}, {"a": ["y", "x"]}, True),
        ({"a": ["x"]}, {"a": [["y"], ["x"]]}, True),
        ({"a": ["x"]}, {"a": "X"}, False),
        ({"a": [5]}, {"a": 5.0}, True),
        ({"a": ["5"]}, {"a": 5}, False),
        ({"a": [None]}, {"a": None}, True),
        ({"a": [None]}, {}, False),
        ({"a": [{"exists": True}]}, {"a": None}, True),
        ({"a": [{"exists": True}]}, {"a": {"b": 1}}, False),
        ({"a": [{"exists": False}]}, {"b": 1}, True),
        ({"a": {"b": [{"exists": False}]}}, {}, True),
        ({"a": [{"prefix": "ab"}]}, {"a": "abc"}, True),
        ({"a": [{"prefix": "ab"}]}, {"a": 12}, False),
        ({"a": [{"prefix": {"equals-ignore-case": "AB"}}]}, {"a": "abc"}, True),
        ({"a": [{"suffix": {"equals-ignore-case": "C"}}]}, {"a": "abc"}, True),
        ({"a": [{"equals-ignore-case": "ABC"}]}, {"a": "aBc"}, True),
        ({"a": [{"wildcard": "a*c"}]}, {"a": "abbbc"}, True),
        ({"a": [{"wildcard": "a*c"}]}, {"a": "abcd"}, False),
        ({"a": [{"wildcard": "a\\*c"}]}, {"a": "abc"}, False),
        ({"a": [{"wildcard": "a\\*c"}]}, {"a": "a*c"}, True),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 5}, True),
        ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 0}, False),
        ({"a": [{"numeric": ["=", 1]}]}, {"a": "1"}, False),
        ({"a": [{"anything-but": ["x"]}]}, {"a": "y"}, True),
        ({"a": [{"anything-but": ["x"]}]}, {"a": "x"}, False),
        ({"a": [{"anything-but": ["x"]}]}, {}, False),
        ({"a": [{"anything-but": ["x"]}]}, {"a": None}, True),
        ({"a": [{"anything-but": {"prefix": "x"}}]}, {"a": "xy"}, False),
        ({"a": [{"anything-but": {"suffix": "y"}}]}, {"a": "xz"}, True),
        ({"a": [{"anything-but": {"equals-ignore-case": ["X"]}}]}, {"a": "x"}, False),
        ({"a": [{"anything-but": {"wildcard": "x*"}}]}, {"a": "xyz"}, False),
        ({"a": {"b": ["x"], "c": ["y"]}}, {"a": [{"b": "x"}, {"c": "y"}]}, False),
        ({"a": {"b": ["x"], "c": ["y"]}}, {"a": [{"b": "x", "c": "y"}]}, True),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}]}, {"b": "y"}, True),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}], "c": [1]}, {"b": "y"}, False),
    ],
)
def test_the_reference_matcher(pattern: dict[str, Any], event: Any, expected: bool) -> None:
    assert Pattern(pattern).matches(event) is expected


def test_the_reference_matcher_refuses_what_it_does_not_know() -> None:
    with pytest.raises(NotImplementedError):
        Pattern({"ip": [{"cidr": "10.0.0.0/8"}]})


# --- rulebus bench on the shipped workload --------------------------------------------------------


def quick(tmp_path: Path, **changes: Any) -> BenchOptions:
    return short_run(tmp_path, small=True, **changes)


def test_the_command_runs_from_any_folder(tmp_path: Path) -> None:
    """Installed, not in the repository: no ../shared, no $RULEBUS_SHARED; the cache is the user's."""
    env = {k: v for k, v in os.environ.items() if k != "RULEBUS_SHARED"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    args = ["--small", "--passes", "2", "--no-scaling", "--no-threads", "--no-peers", "--no-chart"]
    done = subprocess.run(
        [sys.executable, "-m", "rulebus.bench", *args], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cached = list((tmp_path / "xdg" / "rulebus").glob("*.jsonl.gz"))
    assert [p.name for p in cached] == [f"citylots2-generated-{generator.SEED}-{SMALL_EVENTS}.jsonl.gz"]
    data = report_json(tmp_path / "bench-results")
    sets = {s["name"]: s for s in data["citylots"]["sets"]}
    assert len(sets) == len(rulesets())
    for s in sets.values():
        assert s["ok"] is True and s["expected_from"] == "stored counts", s["name"]
        assert len(s["pass_seconds"]) == 2
    markdown = (tmp_path / "bench-results" / "report.md").read_text()
    assert "all counts correct" in markdown
    assert "spread" in markdown
    for internal in ("issue", "target", "../shared", "DESIGN"):
        assert internal not in markdown.lower()


def test_a_wrong_stored_count_fails_the_run(tmp_path: Path) -> None:
    counts = stored_counts()
    counts["generated"][SMALL]["counts"]["EXACT"][4] += 1
    corrupted = tmp_path / "counts.json"
    corrupted.write_text(json.dumps(counts))
    assert run(quick(tmp_path, counts=corrupted), say=quiet) == 1
    sets = {s["name"]: s for s in report_json(tmp_path / "results")["citylots"]["sets"]}
    assert sets["EXACT"]["wrong"] == [{"rule": "EXACT/4", "got": 1, "expected": 2}]
    assert sets["COMBO"]["ok"] is False  # a union's counts are its members'
    assert sets["PREFIX"]["ok"] is True
    assert "WRONG COUNTS" in (tmp_path / "results" / "report.md").read_text()
    assert run(quick(tmp_path), say=quiet) == 0  # the shipped counts, same cached events


def test_a_subset_is_checked_by_the_reference_matcher(tmp_path: Path) -> None:
    assert run(quick(tmp_path, limit=700, only_sets=("NUMERIC", "WILDCARD", "PARTIAL_COMBO")), say=quiet) == 0
    data = report_json(tmp_path / "results")
    assert data["citylots"]["whole_file"] is False
    for s in data["citylots"]["sets"]:
        assert s["events"] == 700
        assert s["expected_from"] == "the reference matcher"
        assert s["ok"] is True


def test_a_damaged_cache_is_refused(tmp_path: Path) -> None:
    assert run(quick(tmp_path), say=quiet) == 0
    (cached,) = (tmp_path / "cache").iterdir()
    cached.write_bytes(b'{"type":"Feature"}\n')
    messages: list[str] = []
    assert run(quick(tmp_path), say=messages.append) == 2
    assert any("not the generator's output" in m for m in messages)


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"XDG_CACHE_HOME": "/x/cache"}, Path("/x/cache/rulebus")),
        ("linux", {"XDG_CACHE_HOME": "relative"}, Path.home() / ".cache" / "rulebus"),
        ("linux", {}, Path.home() / ".cache" / "rulebus"),
        ("darwin", {"XDG_CACHE_HOME": "/x/cache"}, Path.home() / "Library" / "Caches" / "rulebus"),
        ("win32", {"LOCALAPPDATA": "/users/me/AppData/Local"}, Path("/users/me/AppData/Local/rulebus/Cache")),
    ],
)
def test_the_cache_is_the_users(
    monkeypatch: pytest.MonkeyPatch, platform: str, env: dict[str, str], expected: Path
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    for name in ("XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_cache() == expected
