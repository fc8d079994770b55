"""The Python engines a user could install instead, side by side on a subset of the events.

moto's ``EventPattern`` and LocalStack's ``EventRuleEngine`` both test rules one by one on an
event already parsed into a dict: per event, ``json.loads`` and then every rule (which is how
an application would use them). Each engine's counts are
compared with rulebus's on the same events; a disagreement is reported, not fatal (these
engines are not AWS).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from rulebus.bench.measure import Batches, compile_rules, count_and_time, no_gc, rate

Matcher = Callable[[Any], bool]
Compiler = Callable[[str], Matcher]


def moto_compiler() -> Compiler | str:
    """moto's EventPattern, or why it cannot be imported."""
    try:
        from moto.events.models import EventPattern
    except Exception as exc:  # ImportError, or a moto that wants more of its dependencies
        return f"{type(exc).__name__}: {exc}"
    return lambda pattern: EventPattern.load(pattern).matches_event


def localstack_compiler() -> Compiler | str:
    """LocalStack's rule engine (imported without starting LocalStack), or why it cannot be."""
    try:
        from localstack.services.events.event_rule_engine import EventPatternCompiler, EventRuleEngine
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    # Untyped when LocalStack is installed, Any when it is not: mypy sees both (see pyproject).
    compiler, engine = EventPatternCompiler(), EventRuleEngine()
    return lambda pattern: functools.partial(
        engine.evaluate_pattern_on_event, compiler.compile_event_pattern(pattern)
    )


PEERS: dict[str, Callable[[], Compiler | str]] = {
    "moto EventPattern": moto_compiler,
    "LocalStack EventRuleEngine": localstack_compiler,
}


@dataclass
class PeerResult:
    rule_set: str
    engine: str
    events: int
    pass_seconds: list[float]
    agrees: bool | None = None
    disagreement: str = ""
    note: str = ""

    @property
    def events_per_s(self) -> float | None:
        return rate(self.events, self.pass_seconds) if self.pass_seconds else None


def peer_pass(matchers: Sequence[Matcher], lines: Sequence[bytes], counts: list[int]) -> float:
    loads = json.loads
    with no_gc():
        start = time.perf_counter()
        for line in lines:
            event = loads(line)
            for i, matches in enumerate(matchers):
                if matches(event):
                    counts[i] += 1
        return time.perf_counter() - start


def run_peers(
    rule_sets: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    lines: Sequence[bytes],
    work: Batches,
    passes: int,
    say: Callable[[str], None] = lambda _: None,
) -> list[PeerResult]:
    """rulebus and each installed peer on the same events, per rule set."""
    compilers = {name: make() for name, make in PEERS.items()}
    results = []
    for set_name, rules in rule_sets:
        ruleset, _ = compile_rules(rules)
        tally, times = count_and_time(ruleset, work, passes)
        ours = [tally.get(name, 0) for name, _ in rules]
        results.append(PeerResult(set_name, "rulebus", len(lines), times, True))
        for engine, compiler in compilers.items():
            if isinstance(compiler, str):
                results.append(PeerResult(set_name, engine, 0, [], None, note=f"not importable: {compiler}"))
                continue
            try:
                matchers = [compiler(pattern) for _, pattern in rules]
                counts = [0] * len(rules)
                seconds = [peer_pass(matchers, lines, counts)]
                seconds += [peer_pass(matchers, lines, [0] * len(rules)) for _ in range(passes - 1)]
            except Exception as exc:  # a peer that refuses a pattern or an event
                results.append(
                    PeerResult(set_name, engine, 0, [], None, note=f"failed: {type(exc).__name__}: {exc}")
                )
                continue
            result = PeerResult(set_name, engine, len(lines), seconds, counts == ours)
            if counts != ours:
                diffs = [
                    f"{name}: {theirs} vs {mine}"
                    for (name, _), theirs, mine in zip(rules, counts, ours)
                    if theirs != mine
                ]
                result.disagreement = "; ".join(diffs[:3])
            say(f"{engine} on {set_name}: {result.events_per_s or 0:,.0f} events/s")
            results.append(result)
    return results
