"""What the tests of ``rulebus bench`` share: options for a short run, its report, a silent say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rulebus.bench import BenchOptions


def short_run(tmp_path: Path, **changes: Any) -> BenchOptions:
    """One pass over the citylots2 sets only, cache and results in ``tmp_path``."""
    settings: dict[str, Any] = {
        "cache": tmp_path / "cache",
        "results": tmp_path / "results",
        "passes": 1,
        "scaling": False,
        "threads": False,
        "peers": False,
        "chart": False,
    }
    settings.update(changes)
    return BenchOptions(**settings)


def report_json(results: Path) -> dict[str, Any]:
    return json.loads((results / "report.json").read_text())  # type: ignore[no-any-return]


def quiet(_: str) -> None:
    pass
