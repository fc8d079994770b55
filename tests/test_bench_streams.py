"""The stream benchmark's group mode (benches/compare_streams.py --group) on a tiny count: a
producer and a group of two worker processes on SQLite and on Redis read every record once
(the bench itself fails a run that lost or repeated one). No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))

import compare_streams as bench
import messaging_cases as cases


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_group_run_reads_every_record_once(store: str) -> None:
    if store == "redis" and cases.redis_missing() is not None:
        pytest.skip(str(cases.redis_missing()))
    requests = bench.batches(1_203)  # the last put is short
    run = bench.group_once(store, requests, shards=4, workers=2)
    assert run.records == 1_203
    producer, workers, server = run.cpu
    assert producer > 0 and workers > 0
    assert (server is None) == (store == "sqlite")
