"""No module of rulebus reads another object's private attributes: a service gets what it shares
with the others from its ``rulebus.context.Context`` and reaches them through public methods
(``rulebus.targets``). The check is syntactic: every ``X._name`` in python/rulebus where ``X`` is
not ``self`` or ``cls`` is an offender, unless it is one of the forms below or in ALLOWED."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "rulebus"

#: (module, receiver as written): private access that stays inside one module, with why.
ALLOWED: dict[tuple[str, str], str] = {
    # os._exit is the standard library's documented way to leave without running exit handlers:
    # a process pool's child whose parent died, a worker abandoning handler threads after its
    # grace period.
    ("functions/process_pool.py", "os"): "os._exit, a public function of the standard library",
    ("functions/worker.py", "os"): "os._exit, a public function of the standard library",
}


def _class_names(tree: ast.Module) -> set[str]:
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}


def _own_class(receiver: ast.expr, classes: set[str]) -> bool:
    """``self``/``cls``, a class of this module, or a call of one (``cls(...)._apply``)."""
    if isinstance(receiver, ast.Call):
        receiver = receiver.func
    return isinstance(receiver, ast.Name) and (receiver.id in ("self", "cls") or receiver.id in classes)


def offenders(source: str, module: str) -> list[str]:
    """``module:line: expression`` for each private attribute read through another object."""
    tree = ast.parse(source)
    classes = _class_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        name = node.attr
        if not name.startswith("_") or name.startswith("__") or name == "_core":
            continue
        receiver = node.value
        if _own_class(receiver, classes):
            continue
        if (module, ast.unparse(receiver)) in ALLOWED:
            continue
        found.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    return sorted(found)


def test_no_module_reads_another_objects_private_attributes() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += offenders(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())
    assert not found, "private attributes read through another object:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("self._broker._clock()", ["m.py:1: self._broker._clock"]),
        ("broker._store.queues", ["m.py:1: broker._store"]),
        ("bus._ingest(event)", ["m.py:1: bus._ingest"]),
        ("self._store.queues", []),
        ("cls._registry", []),
        ("class A:\n    pass\nA._count", []),
        ("from rulebus import _core\n_core.RuleSet", []),
        ("rulebus._core", []),
        ("other.__dict__", []),
    ],
)
def test_the_check_tells_offenders(source: str, expected: list[str]) -> None:
    assert offenders(source, "m.py") == expected


def test_the_allow_list_is_per_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ALLOWED, ("events/bus.py", "bus"), "an entry for this test")
    assert offenders("bus._batch", "events/bus.py") == []
    assert offenders("bus._batch", "events/archive.py") == ["events/archive.py:1: bus._batch"]
