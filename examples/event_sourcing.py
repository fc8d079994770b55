"""Event sourcing: an account's events on a bus, archived, and its state at any point in time
rebuilt by replaying the archive.

    bank.accounts events ──► ledger bus ──► live-balance rule (not replays) ──► live view
                                  │
                                  └─► archive "account-history" (durable, in the SQLite file)

    later, after a restart:  start_replay(end_time=T, rules=["rebuild"]) ──► rebuild rule ──► fold

The events are the truth; balances are folds of them. The first process keeps a live balance and
stops. The second opens the same file, where the archive kept every event, and answers "what was
the balance at the end of day N?" by replaying the archive up to that time and folding what comes
back. The producer sends at least once (a withdrawal is put twice), so folding is idempotent per
transaction, and per replay: a replayed event keeps its id, so each replay folds it afresh.

Run: python examples/event_sourcing.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import rulebus

DAY = 86_400.0
OPENED = 1_700_000_000.0
HISTORY = [  # (day, detail-type, transaction, amount)
    (0, "Account Opened", "tx-0", 0),
    (1, "Money Deposited", "tx-1", 100),
    (2, "Money Withdrawn", "tx-2", 30),
    (2, "Money Withdrawn", "tx-2", 30),  # the producer's retry of the same withdrawal
    (3, "Money Deposited", "tx-3", 50),
    (4, "Money Withdrawn", "tx-4", 70),
]


class Clock:
    """The broker's time, moved by the example instead of sleeping."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def apply(balance: int, event: dict[str, Any]) -> int:
    """One event folded into the balance."""
    sign = {"Money Deposited": 1, "Money Withdrawn": -1}.get(event["detail-type"], 0)
    return balance + sign * event["detail"]["amount"]


def folder(broker: rulebus.Broker, balances: dict[str, int], view: str = "") -> Any:
    """A bus target folding events into ``balances[view]`` (the replay's name for replays), once
    per transaction and view."""

    def view_of(event: dict[str, Any]) -> str:
        return event.get("replay-name", view)

    @rulebus.idempotent(broker, key=lambda event: f"{view_of(event)}/{event['detail']['transaction']}")
    def fold(event: dict[str, Any]) -> None:
        balances[view_of(event)] = apply(balances.get(view_of(event), 0), event)

    return fold


def main() -> dict[str, Any]:
    clock = Clock(OPENED)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.db"
        live: dict[str, int] = {}
        with rulebus.Broker(path, clock=clock) as broker:
            bus = broker.event_bus("ledger")
            bus.create_archive("account-history", event_pattern={"source": ["bank.accounts"]})
            bus.put_rule(
                "live-balance",
                event_pattern={"source": ["bank.accounts"], "replay-name": [{"exists": False}]},
            )
            bus.put_targets("live-balance", [{"Id": "view", "Arn": folder(broker, live, "live")}])
            bus.put_rule(
                "rebuild", event_pattern={"source": ["bank.accounts"], "replay-name": [{"exists": True}]}
            )
            for day, kind, transaction, amount in HISTORY:
                clock.now = OPENED + day * DAY + 3600
                detail = json.dumps({"account": "acc-7", "transaction": transaction, "amount": amount})
                entry = {"Source": "bank.accounts", "DetailType": kind, "Detail": detail, "Time": clock.now}
                bus.put_events([entry])
            archived = bus.describe_archive("account-history")["EventCount"]

        # A new process: the live view is gone, the archive is in the file.
        clock.now = OPENED + 10 * DAY
        rebuilt: dict[str, int] = {}
        replayed: dict[int, int] = {}
        with rulebus.Broker(path, clock=clock) as broker:
            bus = broker.event_bus("ledger")
            # Python callables are targets of one process only: this one attaches its own.
            bus.put_targets("rebuild", [{"Id": "fold", "Arn": folder(broker, rebuilt)}])
            for day in (1, 2, 3, 4):
                name = f"balance-end-of-day-{day}"
                bus.start_replay(name, "account-history", OPENED, OPENED + (day + 1) * DAY, rules=["rebuild"])
                replay = bus.wait_for_replay(name, timeout=60)
                assert replay["State"] == "COMPLETED", replay
                replayed[day] = replay["ReplayedEventCount"]
    return {
        "archived": archived,
        "live": live["live"],
        "balances": {int(name.rsplit("-", 1)[1]): balance for name, balance in sorted(rebuilt.items())},
        "replayed": replayed,
    }


if __name__ == "__main__":
    outcome = main()
    print(f"{outcome['archived']} events archived; live balance before the restart: {outcome['live']}")
    for day, balance in outcome["balances"].items():
        print(f"replayed {outcome['replayed'][day]} events: balance at the end of day {day} = {balance}")
    ok = outcome["balances"] == {1: 100, 2: 70, 3: 120, 4: 50} and outcome["live"] == 50
    raise SystemExit(0 if ok else 1)
