"""The benchmark harness's counting and checking, on a tiny generated sample (no timing asserted).

A folder of citylots2 material (``rulebus bench --shared``) is made in a temporary folder: a small
generator with the citylots2 line schema and a rule-set file with exact expected counts.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers.bench import quiet, short_run
from helpers.bench import report_json as results_of
from rulebus._files import read_event_lines
from rulebus.bench import BenchOptions, run
from rulebus.bench.citylots import CitylotsResult, SetResult
from rulebus.bench.data import MaterialError, ensure_data, rulesets_from
from rulebus.bench.measure import batches
from rulebus.bench.report import Report, chart
from rulebus.bench.scaling import KINDS, Fields, run_point
from rulebus.cli import cli

N = 60
STREETS = ["MAIN", "OAK", "PINE"]

GENERATOR = f"""
import gzip, json, sys
from pathlib import Path
marker = Path(sys.argv[1]).parent / "runs"
marker.write_text(str(int(marker.read_text()) + 1) if marker.exists() else "1")
with gzip.open(sys.argv[1], "wt") as out:
    for i in range({N}):
        x = -122.4 + i * 0.001
        event = {{
            "type": "Feature",
            "properties": {{"MAPBLKLOT": "%04d%03d" % (1000 + i * 37 % 900, i % 7),
                            "STREET": {STREETS!r}[i % 3], "ST_TYPE": "ST" if i % 2 else None}},
            "geometry": {{"type": "Polygon", "coordinates": [[{{"x": x, "y": 37.7, "z": 0.0}}]],
                         "firstCoordinates": {{"x": x, "y": 37.7, "z": 0.0}}}},
        }}
        out.write(json.dumps(event, separators=(",", ":")) + "\\n")
"""


def x_of(i: int) -> float:
    return -122.4 + i * 0.001


EXACT = [{"properties": {"STREET": ["MAIN"]}}, {"properties": {"STREET": ["ELM"]}}]
EXACT_COUNTS = [N // 3, 0]
NUMERIC = [
    {"geometry": {"firstCoordinates": {"x": [{"numeric": ["<", -122.3705]}]}}},
    {"geometry": {"type": ["Polygon"], "firstCoordinates": {"x": [{"numeric": [">=", -122.3705]}]}}},
]
NUMERIC_COUNTS = [
    sum(x_of(i) < -122.3705 for i in range(N)),
    sum(x_of(i) >= -122.3705 for i in range(N)),
]
PREFIX = [{"properties": {"STREET": [{"prefix": "P"}], "ST_TYPE": ["ST"]}}]
PREFIX_COUNTS = [sum(1 for i in range(N) if STREETS[i % 3] == "PINE" and i % 2)]


def rulesets(wrong: bool = False) -> dict[str, Any]:
    exact_counts = [EXACT_COUNTS[0] + 1, EXACT_COUNTS[1]] if wrong else EXACT_COUNTS
    return {
        "EXACT": {"rules": EXACT, "counts_on_synthetic_data": exact_counts},
        "NUMERIC": {"rules": NUMERIC, "counts_on_synthetic_data": NUMERIC_COUNTS},
        "PREFIX": {"rules": PREFIX, "counts_on_synthetic_data": PREFIX_COUNTS},
        "COMBO": {
            "union_of": ["NUMERIC", "EXACT", "PREFIX"],
            "counts_on_synthetic_data": NUMERIC_COUNTS + EXACT_COUNTS + PREFIX_COUNTS,
        },
    }


def make_shared(folder: Path, wrong: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gen_citylots2_synth.py").write_text(GENERATOR)
    (folder / "citylots2-rulesets.json").write_text(json.dumps(rulesets(wrong)))
    return folder


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    return make_shared(tmp_path / "shared")


def options(tmp_path: Path, shared: Path | None, **changes: Any) -> BenchOptions:
    return short_run(tmp_path, quick=True, shared=shared, **changes)


def report_json(tmp_path: Path) -> dict[str, Any]:
    return results_of(tmp_path / "results")


def test_counts_are_checked_against_the_published_counts(tmp_path: Path, shared: Path) -> None:
    assert run(options(tmp_path, shared), say=quiet) == 0
    data = report_json(tmp_path)
    sets = {s["name"]: s for s in data["citylots"]["sets"]}
    assert set(sets) == {"EXACT", "NUMERIC", "PREFIX", "COMBO"}
    assert data["citylots"]["whole_file"] is True
    assert sets["EXACT"]["counts"] == EXACT_COUNTS
    assert sets["NUMERIC"]["counts"] == NUMERIC_COUNTS
    assert sets["PREFIX"]["counts"] == PREFIX_COUNTS
    assert sets["COMBO"]["counts"] == NUMERIC_COUNTS + EXACT_COUNTS + PREFIX_COUNTS
    for s in sets.values():
        assert s["expected_from"] == "the folder's published counts"
        assert s["ok"] is True and s["wrong"] == []
        assert s["events"] == N
    markdown = (tmp_path / "results" / "report.md").read_text()
    assert "| EXACT | 2 |" in markdown
    assert "all counts correct" in markdown


def test_a_wrong_expected_count_fails_the_run(tmp_path: Path) -> None:
    shared = make_shared(tmp_path / "shared", wrong=True)
    assert run(options(tmp_path, shared), say=quiet) == 1
    data = report_json(tmp_path)
    exact = next(s for s in data["citylots"]["sets"] if s["name"] == "EXACT")
    assert exact["ok"] is False
    assert exact["wrong"] == [{"rule": "EXACT/0", "got": EXACT_COUNTS[0], "expected": EXACT_COUNTS[0] + 1}]
    markdown = (tmp_path / "results" / "report.md").read_text()
    assert "WRONG COUNTS" in markdown
    assert "EXACT/0" in markdown


def test_a_wrong_count_fails_the_command(tmp_path: Path) -> None:
    shared = make_shared(tmp_path / "shared", wrong=True)
    args = [
        "bench",
        "--quick",
        "--shared",
        str(shared),
        "--cache",
        str(tmp_path / "cache"),
        "--results",
        str(tmp_path / "results"),
        "--no-scaling",
        "--no-threads",
        "--no-peers",
        "--no-chart",
    ]
    assert CliRunner().invoke(cli, args).exit_code == 1
    make_shared(shared)  # the right counts now
    assert CliRunner().invoke(cli, args).exit_code == 0


def test_the_data_is_generated_once(tmp_path: Path, shared: Path) -> None:
    cache = tmp_path / "cache"
    first = ensure_data(shared, cache)
    again = ensure_data(shared, cache)
    assert first == again == cache / "citylots2.json.gz"
    assert (cache / "runs").read_text() == "1"
    assert len(read_event_lines(first)) == N
    assert not list(cache.glob("*.partial"))


def test_a_failing_generator_leaves_no_file(tmp_path: Path) -> None:
    shared = make_shared(tmp_path / "shared")
    (shared / "gen_citylots2_synth.py").write_text("import sys; sys.exit('no space left')")
    with pytest.raises(MaterialError, match="no space left"):
        ensure_data(shared, tmp_path / "cache")
    assert not list((tmp_path / "cache").iterdir())


def test_missing_material_exits_2(tmp_path: Path) -> None:
    assert run(options(tmp_path, tmp_path / "nowhere"), say=quiet) == 2


def test_shared_names_the_folder_or_the_one_above_it(tmp_path: Path) -> None:
    make_shared(tmp_path / "elsewhere" / "bench")
    assert run(options(tmp_path, tmp_path / "elsewhere"), say=quiet) == 0
    assert "elsewhere/bench" in report_json(tmp_path)["meta"]["data"]


def test_on_a_subset_counts_are_checked_against_single_patterns(tmp_path: Path, shared: Path) -> None:
    assert run(options(tmp_path, shared, limit=20, batch=7), say=quiet) == 0
    data = report_json(tmp_path)
    assert data["citylots"]["whole_file"] is False
    for s in data["citylots"]["sets"]:
        assert s["events"] == 20
        assert s["expected_from"] == "single Patterns"
        assert s["ok"] is True
    combo = next(s for s in data["citylots"]["sets"] if s["name"] == "COMBO")
    # Every third event of a 60-event file: events 0, 3, ..., 57, all on MAIN (i % 3 == 0).
    assert combo["counts"][2] == 20


def test_only_some_sets(tmp_path: Path, shared: Path) -> None:
    assert run(options(tmp_path, shared, only_sets=("NUMERIC",)), say=quiet) == 0
    assert [s["name"] for s in report_json(tmp_path)["citylots"]["sets"]] == ["NUMERIC"]
    assert run(options(tmp_path, shared, only_sets=("NOPE",)), say=quiet) == 2


def test_unions_are_their_members_in_order() -> None:
    specs = {s.name: s for s in rulesets_from(rulesets())}
    combo = specs["COMBO"]
    assert combo.members == ["NUMERIC", "EXACT", "PREFIX"]
    assert [name for name, _ in combo.rules] == ["NUMERIC/0", "NUMERIC/1", "EXACT/0", "EXACT/1", "PREFIX/0"]
    assert json.loads(combo.rules[2][1]) == EXACT[0]
    broken = rulesets()
    broken["EXACT"]["counts_on_synthetic_data"] = [1]
    with pytest.raises(MaterialError, match="1 expected counts for 2 rules"):
        rulesets_from(broken)


def test_everything_on_the_sample(tmp_path: Path, shared: Path) -> None:
    """Scaling, threads, peers and the chart run on tiny data and check what they can."""
    code = run(options(tmp_path, shared, scaling=True, threads=True, peers=True, chart=True), say=quiet)
    assert code == 0
    data = report_json(tmp_path)
    rows = data["scaling"]
    assert rows
    for row in rows:
        assert row["wrong"] == 0
        assert row["checked"] == row["rules"] or "not enough distinct values" in row["note"]
    assert any(row["checked"] for row in rows)
    assert {t["rule_set"] for t in data["threads"]} == {"EXACT", "COMBO"}
    peers = data["peers"]
    assert {(p["rule_set"], p["engine"]) for p in peers} >= {("EXACT", "rulebus"), ("NUMERIC", "rulebus")}
    for p in peers:
        if p["agrees"] is not None:
            assert p["events"] == N
    png = tmp_path / "results" / "report.png"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "rulebus[bench]" in (tmp_path / "results" / "report.md").read_text()
    else:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", list(KINDS))
def test_scaling_counts_each_rule(tmp_path: Path, shared: Path, kind: str) -> None:
    lines = read_event_lines(ensure_data(shared, tmp_path / "cache"))
    fields = Fields.of(lines)
    point = run_point(kind, 10, fields, batches(lines, 16), passes=1, budget_seconds=60)
    assert point.note == ""
    assert point.checked == 10
    assert point.wrong == 0, point.first_wrong
    assert point.events == N


def test_scaling_says_when_the_data_is_too_small(tmp_path: Path, shared: Path) -> None:
    lines = read_event_lines(ensure_data(shared, tmp_path / "cache"))
    point = run_point("exact", 1_000, Fields.of(lines), batches(lines, 16), passes=1, budget_seconds=60)
    assert "not enough distinct values" in point.note
    assert point.checked == 0


def test_your_own_rules_and_events(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "main.json").write_text(json.dumps(EXACT[0]))
    (rules / "west.json").write_text(json.dumps(NUMERIC[0]))
    events = tmp_path / "events.jsonl.gz"
    sample = [{"properties": {"STREET": "MAIN"}}, {"properties": {"STREET": "OAK"}}] * 5
    events.write_bytes(gzip.compress("".join(json.dumps(e) + "\n" for e in sample).encode()))
    opts = BenchOptions(
        rules=rules, events=events, results=tmp_path / "results", passes=1, peers=False, chart=False
    )
    assert run(opts, say=quiet) == 0
    custom = report_json(tmp_path)["custom"]
    assert custom["counts"] == {"main": 5, "west": 0}
    assert custom["events"] == 10


def test_your_own_events_must_be_valid(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"main": EXACT[0]}))
    events = tmp_path / "events.jsonl"
    events.write_text('{"a": 1}\n{"a": \n')
    opts = BenchOptions(rules=rules, events=events, results=tmp_path / "results", passes=1, peers=False)
    messages: list[str] = []
    assert run(opts, say=messages.append) == 2
    assert any("event 2" in m for m in messages)


def test_rules_and_events_go_together(tmp_path: Path) -> None:
    assert run(BenchOptions(rules=tmp_path), say=quiet) == 2


def test_the_chart_draws_error_bars_of_a_single_pass(tmp_path: Path) -> None:
    """One pass: the slowest and fastest are the median, give or take a rounding (1 event in 0.3 s
    at 0.7 of orjson's speed rounds below it), and an error bar is never negative."""
    pytest.importorskip("matplotlib")
    one = SetResult("EXACT", 1, 0.0, 1, [0.3], [0], [0], "stored counts", ratio=0.7, reference_ratio=1.04)
    report = Report({"date": "today"}, citylots=CitylotsResult(1, True, [], [one]))
    assert chart(report, tmp_path / "chart.png") is None
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_paired_pass_reads_every_line_under_both_and_counts_as_a_plain_pass() -> None:
    """The yardstick timed beside a set: orjson.loads (here a recorder) sees every line once, in
    order within each segment, and the set's counts are those of a plain pass."""
    from collections import Counter

    import rulebus
    from rulebus.bench.measure import SEGMENTS, match_pass, paired_pass

    lines = [json.dumps({"n": i, "even": i % 2 == 0}).encode() for i in range(103)]
    work = batches(lines, 4)
    assert len(work) > SEGMENTS  # segments of several batches, the last one short
    ruleset = rulebus.RuleSet()
    ruleset.add("even", {"even": [True]})
    ruleset.add("small", {"n": [{"numeric": ["<", 10]}]})
    seen: list[bytes] = []
    paired, plain = Counter[str](), Counter[str]()
    matching, loading, one_by_one = paired_pass(ruleset, work, seen.append, paired)
    assert one_by_one == 0.0  # not asked for
    # Asked for, a loop of `matches` calls goes over the same lines as a third side.
    calls: list[bytes] = []

    class Recording:
        def matches_many(self, batch: list[bytes]) -> list[list[str]]:
            return [ruleset.matches(line) for line in batch]

        def matches(self, line: bytes) -> list[str]:
            calls.append(line)
            return ruleset.matches(line)

    again = Counter[str]()
    seen.clear()
    three = paired_pass(Recording(), work, seen.append, again, one_by_one=True)  # type: ignore[arg-type]
    assert sorted(calls) == sorted(lines) == sorted(seen)
    assert again == paired and three.one_by_one > 0
    match_pass(ruleset, work, plain)
    assert sorted(seen) == sorted(lines) and len(seen) == len(lines)
    assert paired == plain == Counter({"even": 52, "small": 10})
    assert matching > 0 and loading > 0


def test_a_sets_ratio_is_the_median_of_its_passes_own_ratios() -> None:
    """Each pass's ratio pairs the set's seconds with the yardstick's timed beside it; the
    median of those is the figure, whatever a whole-pass orjson.loads figure says."""
    s = SetResult("EXACT", 1, 0.0, 100, [1.0, 2.0, 1.0], [0], [0], "stored counts")
    s.orjson_seconds = [3.0, 4.0, 3.3]
    assert s.pass_ratios == pytest.approx([3.0, 2.0, 3.3])


def test_the_report_gives_each_sets_ratio_with_its_lowest_and_highest_pass(
    tmp_path: Path, shared: Path
) -> None:
    pytest.importorskip("orjson")
    assert run(options(tmp_path, shared, passes=3), say=quiet) == 0
    data = report_json(tmp_path)
    markdown = (tmp_path / "results" / "report.md").read_text()
    for s in data["citylots"]["sets"]:
        assert len(s["orjson_seconds"]) == 3
        assert len(s["one_by_one_seconds"]) == 3 and all(t > 0 for t in s["one_by_one_seconds"])
        ratios = [o / t for t, o in zip(s["pass_seconds"], s["orjson_seconds"])]
        assert s["ratio"] == pytest.approx(sorted(ratios)[1])
        assert f"| {s['ratio']:.2f} ({min(ratios):.2f}-{max(ratios):.2f}) |" in markdown
        one_by_one = sorted(o / t for t, o in zip(s["one_by_one_seconds"], s["orjson_seconds"]))
        assert f" ({one_by_one[1]:.2f}) |" in markdown
