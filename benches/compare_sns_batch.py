"""SNS filter policies in batches: ``RuleSet("sns").matches_many`` against a loop of ``matches``.

    python benches/compare_sns_batch.py [--messages 100000] [--policies 100] [--repeats 5]
                                        [--before path/to/_core.so]

A RuleSet of SNS filter policies (nine in ten on message attributes, the rest on the body)
matches the same messages, each a ``(body, attributes)`` pair with attributes in the
notification form, in four ways per repeat, in turn: one ``matches_many`` call for the whole
batch; one ``matches`` call per message; ``matches_many`` on batches of 10,000 in one thread;
and the same batches shared by two threads (wall time: what the GIL let the threads overlap).
With ``--before``, the native module built at another commit (a copy of its
``rulebus/_core*.so``) is loaded beside the current one and measured the same way, in the same
repeats. Figures are messages per second, the median of the repeats. The machine is noisy:
compare the columns of one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import rulebus

CHUNK = 10_000


def load_before(path: Path) -> ModuleType:
    """The native module at ``path``, under a name of its own (its init function is ``_core``'s)."""
    spec = importlib.util.spec_from_file_location("rulebus_before._core", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ruleset(core: Any, policies: int) -> Any:
    rs = core.RuleSet("sns")
    for i in range(policies):
        if i % 10 == 9:
            body = {"order": {"store": [f"s{i}"], "total": [{"numeric": [">", i]}]}}
            rs.add(f"body{i}", body, "MessageBody")
        else:
            rs.add(f"attr{i}", {"store": [f"s{i}", f"t{i}"], "price": [{"numeric": [">=", i]}]})
    return rs


def messages(count: int, policies: int) -> list[tuple[str, dict[str, dict[str, str]]]]:
    out = []
    for i in range(count):
        store = f"s{i % (policies + policies // 2)}"
        body = json.dumps({"order": {"store": store, "total": i % 200, "id": i}})
        attributes = {
            "store": {"Type": "String", "Value": store},
            "price": {"Type": "Number", "Value": str(i % 150)},
            "region": {"Type": "String", "Value": "eu-west-1"},
        }
        out.append((body, attributes))
    return out


def timed(work: Callable[[Any], object], rs: Any) -> float:
    start = time.perf_counter()
    work(rs)
    return time.perf_counter() - start


def two_threads(rs: Any, chunks: list[list[Any]]) -> None:
    shares = [chunks[0::2], chunks[1::2]]
    barrier = threading.Barrier(3)

    def worker(share: list[list[Any]]) -> None:
        barrier.wait()
        for chunk in share:
            rs.matches_many(chunk)

    pool = [threading.Thread(target=worker, args=(share,)) for share in shares]
    for thread in pool:
        thread.start()
    barrier.wait()
    for thread in pool:
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--policies", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", type=Path, help="the native module (_core*.so) of another build")
    options = parser.parse_args()

    batch = messages(options.messages, options.policies)
    chunks = [batch[i : i + CHUNK] for i in range(0, len(batch), CHUNK)]
    cores: dict[str, Any] = {"after": rulebus._core}
    if options.before is not None:
        cores = {"before": load_before(options.before), **cores}
    sets = {name: ruleset(core, options.policies) for name, core in cores.items()}
    expected = [sets["after"].matches(body, attributes) for body, attributes in batch]
    for name, rs in sets.items():
        if rs.matches_many(batch) != expected:
            raise SystemExit(f"{name}: matches_many disagrees with matches")

    cases: dict[str, Callable[[Any], object]] = {
        "matches_many, one batch": lambda rs: rs.matches_many(batch),
        "matches, one by one": lambda rs: [rs.matches(body, attributes) for body, attributes in batch],
        f"matches_many, batches of {CHUNK:,}, 1 thread": lambda rs: [rs.matches_many(c) for c in chunks],
        f"matches_many, batches of {CHUNK:,}, 2 threads": lambda rs: two_threads(rs, chunks),
    }
    seconds: dict[tuple[str, str], list[float]] = {(c, n): [] for c in cases for n in sets}
    for _ in range(options.repeats):
        for case, work in cases.items():
            for name, rs in sets.items():
                seconds[case, name].append(timed(work, rs))

    matched = sum(map(len, expected))
    print(
        f"{options.messages:,} messages, {options.policies} policies ({matched:,} matches), median of"
        f" {options.repeats}; Python {sys.version.split()[0]}"
    )
    header = f"{'messages/s':<44}" + "".join(f"{name:>14}" for name in sets)
    print(header)
    for case in cases:
        row = "".join(f"{options.messages / statistics.median(seconds[case, n]):>14,.0f}" for n in sets)
        print(f"{case:<44}{row}")


if __name__ == "__main__":
    main()
