"""The results: a markdown report, the raw figures as JSON, and a PNG chart (matplotlib)."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import rulebus
from rulebus.bench.citylots import CitylotsResult, reference_ratio
from rulebus.bench.measure import Memory, spread, spread_text
from rulebus.bench.peers import PeerResult
from rulebus.bench.scaling import ScalePoint

# The engine's sources, from the repository's top (git's ":/" pathspec magic).
ENGINE_SOURCES = (":/rust", ":/Cargo.toml", ":/Cargo.lock")


@dataclass
class ThreadsResult:
    rule_set: str
    events: int
    one_thread_seconds: list[float]
    two_threads_seconds: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.one_thread_seconds) / statistics.median(self.two_threads_seconds)

    @property
    def one_thread_events_per_s(self) -> float:
        return self.events / statistics.median(self.one_thread_seconds)

    @property
    def two_threads_events_per_s(self) -> float:
        return self.events / statistics.median(self.two_threads_seconds)


@dataclass
class CustomResult:
    """``rulebus bench --rules R --events E``."""

    rules: int
    compile_seconds: float
    memory: Memory
    events: int
    pass_seconds: list[float]
    orjson_seconds: list[float]
    counts: dict[str, int]

    @property
    def events_per_s(self) -> float:
        return self.events / statistics.median(self.pass_seconds)

    @property
    def ratio(self) -> float | None:
        """The median of the passes' own ratios, each pass timing orjson.loads beside the rules."""
        ratios = [o / s for s, o in zip(self.pass_seconds, self.orjson_seconds) if s > 0]
        return statistics.median(ratios) if ratios else None


@dataclass
class Report:
    meta: dict[str, str]
    citylots: CitylotsResult | None = None
    scaling: list[ScalePoint] = field(default_factory=list)
    threads: list[ThreadsResult] = field(default_factory=list)
    peers: list[PeerResult] = field(default_factory=list)
    custom: CustomResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        citylots_ok = self.citylots is None or self.citylots.ok
        return citylots_ok and all(p.ok for p in self.scaling)


# --- what was measured, where ---------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit() -> str | None:
    """The commit of the rulebus source tree this runs from, if it is a git checkout."""
    source = Path(rulebus.__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=source, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        # Only the engine's sources count: the harness's own edits do not change the figures.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", *ENGINE_SOURCES],
            cwd=source,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    return commit + (" with uncommitted changes to the engine" if dirty.stdout.strip() else "")


def machine_meta() -> dict[str, str]:
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} vCPU {_cpu_model()}, {platform.system()} {platform.machine()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "rulebus": rulebus.__version__,
    }
    commit = _git_commit()
    if commit:
        meta["commit"] = commit
    return meta


# --- markdown -------------------------------------------------------------------------------------


def _n(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _ratio(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1e-3:
        return f"{value * 1e6:,.0f} µs"
    if value < 1:
        return f"{value * 1e3:,.1f} ms"
    return f"{value:,.2f} s"


def _bytes(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 0:
        return "< 0"
    if value < 1024:
        return f"{value:,.0f} B"
    return f"{value / 1024:,.1f} KB"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def citylots_section(c: CitylotsResult) -> list[str]:
    scope = "the whole file" if c.whole_file else "a subset: every k-th event of the file"
    lines = [
        "## citylots2",
        "",
        f"{c.events:,} events ({scope}); one thread, `RuleSet.matches_many` on bytes; events/s is the "
        "median pass, compile time (adding every rule to a fresh RuleSet) apart. Spread: the slowest "
        "and the fastest pass against the median; a difference between two figures within their spread "
        "is noise. ÷ orjson.loads: events/s divided by `orjson.loads`'s over the same lines, timed "
        "beside each set in every pass (a stretch of the lines under one, then the other), the "
        "median of the passes' ratios (in brackets, the lowest and the highest); the figure that "
        "compares across machines. One `matches` call per event: the same lines through "
        "`RuleSet.matches`, a Python call each, timed beside the others in every pass (its counts "
        "are those of `matches_many`, which are checked). event-ruler ÷ orjson: the same ratio for AWS's "
        "reference engine (aws/event-ruler 2.0.1, Java), measured once by rulebus's authors on a "
        "2 vCPU Xeon VM over 213,068 generated citylots2-shaped events (same line schema, not the same "
        "events as rulebus's generator makes): a guide, not a measurement of this run.",
        "",
    ]
    orjson = c.orjson
    rows = []
    for stick in c.yardsticks:
        label = {"empty": "rulebus, empty RuleSet (scan floor)"}.get(
            stick.name, f"`{stick.name}`, every line"
        )
        ratio = stick.events_per_s / orjson.events_per_s if orjson else None
        ref = reference_ratio(stick.name)
        spread = spread_text(stick.events, stick.pass_seconds)
        rows.append([label, "", "", _n(stick.events_per_s), spread, _ratio(ratio), "", _ratio(ref), ""])
    for s in c.sets:
        single = s.one_by_one_events_per_s
        counts = (
            "ok"
            if s.ok and s.expected is not None
            else ("not checked" if s.expected is None else f"**{len(s.wrong)} wrong**")
        )
        rows.append(
            [
                s.name,
                str(s.rules),
                _seconds(s.compile_seconds),
                _n(s.events_per_s),
                spread_text(s.events, s.pass_seconds),
                _ratio(s.ratio)
                + (f" ({min(s.pass_ratios):.2f}-{max(s.pass_ratios):.2f})" if len(s.pass_ratios) > 1 else ""),
                "—" if single is None else f"{_n(single)} ({_ratio(s.one_by_one_ratio)})",
                _ratio(s.reference_ratio),
                counts,
            ]
        )
    header = [
        "what",
        "rules",
        "compile",
        "events/s",
        "spread",
        "÷ orjson.loads",
        "one `matches` call per event: events/s (÷ orjson.loads)",
        "event-ruler ÷ orjson",
        "counts",
    ]
    lines += _table(header, rows, right=(1, 2, 3, 4, 5, 6, 7))
    checked = {s.expected_from for s in c.sets if s.expected is not None}
    lines += ["", f"Counts checked against: {', '.join(sorted(checked)) or 'nothing'}."]
    wrong = [(s.name, w) for s in c.sets for w in s.wrong]
    if wrong:
        lines += ["", "Wrong counts:", ""]
        lines += [f"- {name} {w.rule}: {w.got:,}, expected {w.expected:,}" for name, w in wrong[:30]]
    return lines


def scaling_section(points: Sequence[ScalePoint]) -> list[str]:
    base = {p.kind: p.events_per_s for p in points if p.rules == 10 and p.events_per_s}
    rows = []
    for p in points:
        eps = p.events_per_s
        relative = eps / base[p.kind] if eps and p.kind in base else None
        counts = (
            f"{p.checked:,} ok"
            if p.ok and p.checked
            else ("—" if not p.checked else f"**{p.wrong:,} wrong**")
        )
        rows.append(
            [
                f"{p.rules:,}",
                p.description,
                _seconds(p.compile_seconds if p.memory else None),
                _bytes(p.stats_bytes_per_rule),
                _bytes(p.rss_bytes_per_rule),
                _n(eps),
                "—" if relative is None else f"{relative:.0%}",
                _ratio(p.matches_per_event),
                counts,
                p.note,
            ]
        )
    header = [
        "rules",
        "kind",
        "time to add all",
        "memory/rule (stats)",
        "memory/rule (RSS)",
        "events/s",
        "÷ 10 rules",
        "matches/event",
        "counts",
        "note",
    ]
    events = max((p.events for p in points), default=0)
    lines = [
        "## Rule-count scaling",
        "",
        f"Rules generated from the data (fixed seed), {events:,} events, one thread. Memory per rule: the "
        'engine\'s own estimate (`RuleSet.stats()["bytes"]`) and the growth of resident memory '
        "(/proc/self/statm) while the rules were added (— when under 256 KB in all, too little to tell). "
        "Every rule's count is checked against a "
        "count computed in Python.",
        "",
        *_table(header, rows, right=(0, 2, 3, 4, 5, 6, 7)),
    ]
    bad = [p for p in points if p.first_wrong]
    if bad:
        lines += ["", "First wrong count per row:", ""] + [f"- {p.first_wrong}" for p in bad]
    return lines


def threads_section(results: Sequence[ThreadsResult]) -> list[str]:
    rows = [
        [
            r.rule_set,
            f"{r.events:,}",
            _n(r.one_thread_events_per_s),
            _n(r.two_threads_events_per_s),
            f"{r.ratio:.2f}x",
            f"{spread_text(r.events, r.one_thread_seconds)} / {spread_text(r.events, r.two_threads_seconds)}",
        ]
        for r in results
    ]
    header = ["rule set", "events", "1 thread events/s", "2 threads events/s", "2 ÷ 1", "spread (1 / 2)"]
    return [
        "## Two threads",
        "",
        "One RuleSet shared by two threads, each calling `matches_many` on alternate batches; "
        f"{os.cpu_count()} cores.",
        "",
        *_table(header, rows, right=(1, 2, 3, 4)),
    ]


def peers_section(results: Sequence[PeerResult]) -> list[str]:
    ours = {r.rule_set: r.events_per_s for r in results if r.engine == "rulebus"}
    rows = []
    for r in results:
        eps = r.events_per_s
        mine = ours.get(r.rule_set)
        faster = "" if r.engine == "rulebus" or not eps or not mine else f"{mine / eps:,.0f}x"
        agrees = {True: "yes", False: f"**no** ({r.disagreement})", None: "—"}[r.agrees]
        rows.append(
            [r.rule_set, r.engine, f"{r.events:,}" if r.events else "—", _n(eps), faster, agrees, r.note]
        )
    header = ["rule set", "engine", "events", "events/s", "rulebus is", "same counts as rulebus", "note"]
    return [
        "## Python peers",
        "",
        "Same rules, same events (the first of the file). moto and LocalStack: `json.loads` per event, "
        "then each rule in turn; rulebus: `matches_many` on bytes.",
        "",
        *_table(header, rows, right=(2, 3, 4)),
    ]


def custom_section(c: CustomResult) -> list[str]:
    rows = [
        [
            f"{c.rules:,}",
            _seconds(c.compile_seconds),
            _bytes(c.memory.stats_bytes),
            _bytes(c.memory.rss_delta),
            f"{c.events:,}",
            _n(c.events_per_s),
            _ratio(c.ratio),
        ]
    ]
    header = ["rules", "compile", "memory (stats)", "memory (RSS)", "events", "events/s", "÷ orjson.loads"]
    lines = ["## Your rules", "", *_table(header, rows, right=(0, 1, 2, 3, 4, 5, 6)), ""]
    ranked = sorted(c.counts.items(), key=lambda item: -item[1])
    shown = ranked if len(ranked) <= 50 else ranked[:20]
    lines += _table(["rule", "matches"], [[name, f"{n:,}"] for name, n in shown], right=(1,))
    if len(shown) < len(ranked):
        lines += ["", f"(the 20 rules with most matches of {len(ranked):,}; every count is in report.json)"]
    return lines


def markdown(report: Report) -> str:
    lines = ["# rulebus benchmark", ""]
    lines += [f"- {key}: {value}" for key, value in report.meta.items()]
    sections = []
    if report.citylots:
        sections.append(citylots_section(report.citylots))
    if report.custom:
        sections.append(custom_section(report.custom))
    if report.scaling:
        sections.append(scaling_section(report.scaling))
    if report.threads:
        sections.append(threads_section(report.threads))
    if report.peers:
        sections.append(peers_section(report.peers))
    for section in sections:
        if section:
            lines += ["", *section]
    if report.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in report.notes]
    if not report.ok:
        result = "WRONG COUNTS (the run failed)"
    elif report.citylots is None and not report.scaling:
        result = "measured (your rules' counts are listed, not checked)"
    else:
        result = "all counts correct"
    lines += ["", f"Result: {result}.", ""]
    return "\n".join(lines)


# --- JSON -----------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in (
            "events_per_s",
            "ratio",
            "ok",
            "stats_bytes_per_rule",
            "rss_bytes_per_rule",
            "one_thread_events_per_s",
            "matches_per_event",
            "two_threads_events_per_s",
        ):
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                out[name] = _jsonable(getattr(value, name))
        return out
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def to_json(report: Report) -> str:
    return json.dumps(_jsonable(report), indent=1, ensure_ascii=False)


# --- chart ----------------------------------------------------------------------------------------


def chart(report: Report, path: Path) -> str | None:
    """A PNG of the citylots2 ratios and the scaling curves; the reason when it cannot be drawn."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return 'no chart: it needs matplotlib, which comes with `pip install "rulebus[bench]"`'

    panels = []
    sets = [s for s in (report.citylots.sets if report.citylots else []) if s.ratio is not None]
    if sets:
        panels.append("citylots")
    if any(p.events_per_s for p in report.scaling):
        panels.append("scaling")
    if not panels:
        return "no chart: nothing to draw"
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 6.5), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if panel == "citylots":
            names = [s.name for s in sets][::-1]
            ys = list(range(len(names)))
            ours = [s.ratio or 0.0 for s in sets][::-1]
            # Error bars: the lowest and the highest pass's ratio (each pass's own yardstick), or
            # without those the slowest and the fastest pass against the same orjson.loads figure.
            low, high = [], []
            for s, ratio in zip(sets[::-1], ours):
                if s.pass_ratios:
                    low.append(max(0.0, ratio - min(s.pass_ratios)))
                    high.append(max(0.0, max(s.pass_ratios) - ratio))
                    continue
                slowest, fastest = spread(s.events, s.pass_seconds)
                # max: rounding can put the median a hair outside its own passes' range.
                low.append(max(0.0, ratio - ratio * slowest / s.events_per_s))
                high.append(max(0.0, ratio * fastest / s.events_per_s - ratio))
            refs = [s.reference_ratio or 0.0 for s in sets][::-1]
            bars = [y + 0.2 for y in ys]
            ax.barh(bars, ours, height=0.4, xerr=[low, high], label="rulebus", color="#2a7ab0")
            others = [y - 0.2 for y in ys]
            ax.barh(others, refs, height=0.4, label="event-ruler (measured elsewhere)", color="#bbbbbb")
            ax.set_yticks(ys)
            ax.set_yticklabels(names, fontsize=8)
            ax.set_xlabel("events/s ÷ orjson.loads events/s (higher is better)")
            ax.set_title(f"citylots2, {report.citylots.events:,} events" if report.citylots else "citylots2")
            ax.legend(loc="lower right", fontsize=8)
            ax.grid(axis="x", alpha=0.3)
        else:
            kinds: dict[str, list[ScalePoint]] = {}
            for p in report.scaling:
                if p.events_per_s:
                    kinds.setdefault(p.kind, []).append(p)
            for kind, points in kinds.items():
                ax.plot([p.rules for p in points], [p.events_per_s for p in points], marker="o", label=kind)
            ax.set_xscale("log")
            ax.set_xlabel("rules")
            ax.set_ylabel("events/s")
            ax.set_ylim(bottom=0)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
            ax.set_title("rule-count scaling")
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
    commit = report.meta.get("commit", "")
    fig.suptitle(
        f"rulebus {report.meta.get('rulebus', '')} {commit} — {report.meta.get('date', '')}", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def write(report: Report, folder: Path, with_chart: bool = True) -> list[Path]:
    """report.md, report.json and (with matplotlib) report.png in the folder; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if with_chart:
        png = folder / "report.png"
        problem = chart(report, png)
        if problem is None:
            written.append(png)
        else:
            report.notes.append(problem)
    md = folder / "report.md"
    md.write_text(markdown(report))
    js = folder / "report.json"
    js.write_text(to_json(report))
    return [md, js, *written]
