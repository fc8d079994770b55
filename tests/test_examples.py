"""The programs in examples/ run and do what their docstrings say: each main() is called here and
its returned account checked, and each file also runs as a script."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main()


def test_order_pipeline_charges_each_order_once_and_ships_it() -> None:
    outcome = run("order_pipeline")
    assert outcome["deliveries"] == 8  # four published (one a retry), each delivered twice
    assert sorted(outcome["charged"]) == ["o-1", "o-2", "o-3"]
    assert sorted(outcome["receipts"]) == ["pay-o-1", "pay-o-2", "pay-o-2", "pay-o-3"]
    shipments = sorted(outcome["shipments"], key=lambda shipment: shipment["ship"])
    assert shipments == [
        {"ship": order, "items": [f"sku-{order}"], "rule": "fulfil-paid-orders"}
        for order in ("o-1", "o-2", "o-3")
    ]
    assert outcome["analytics"] == ["o-2", "o-2"]  # the filter policy let only the big order through


def test_monitoring_alerts_route_by_severity() -> None:
    outcome = run("monitoring_alerts")
    assert outcome["pages"] == ["SEV1 prod-db-connections: Threshold crossed: prod-db-connections"]
    assert outcome["warnings"] == ["prod-api-latency"]
    assert outcome["resolved"] == ["RESOLVED prod-db-connections at 2026-11-29T10:20:00Z"]
    assert outcome["tickets"] == ["staging-api-5xx"]


def test_travel_saga_ends_all_booked_or_all_cancelled() -> None:
    outcome = run("travel_saga")
    assert outcome["state"] == {
        "t-1": {"flight": "BOOKED", "hotel": "BOOKED", "car": "BOOKED", "trip": "CONFIRMED"},
        "t-2": {"flight": "CANCELLED", "hotel": "CANCELLED", "trip": "CANCELLED"},
    }
    assert outcome["consistent"]
    t1 = [line.split(": ")[1] for line in outcome["log"] if line.startswith("t-1")]
    # The double click is on the bus twice but sets off the saga once.
    assert t1 == [
        "Trip Requested",
        "Flight Booked",
        "Hotel Booked",
        "Car Booked",
        "Trip Confirmed",
        "Trip Requested",
    ]
    t2 = [line.split(": ")[1] for line in outcome["log"] if line.startswith("t-2")]
    assert t2[3:] == ["Car Booking Failed", "Cancel Hotel", "Cancel Flight", "Trip Cancelled"]


def test_event_sourcing_rebuilds_each_day_by_replay() -> None:
    outcome = run("event_sourcing")
    assert outcome["archived"] == 6  # the producer's retry is archived too
    assert outcome["live"] == 50
    assert outcome["balances"] == {1: 100, 2: 70, 3: 120, 4: 50}
    # The replays sent the duplicate withdrawal too; the fold counted it once.
    assert outcome["replayed"] == {1: 2, 2: 4, 3: 5, 4: 6}


@pytest.mark.parametrize("name", sorted(path.stem for path in EXAMPLES.glob("*.py")))
def test_each_example_runs_as_a_script(name: str) -> None:
    finished = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert finished.stdout.strip()
