"""A travel-booking saga on an event bus: flight, hotel and car, with compensations on failure.

    Trip Requested ─► flight ─► Flight Booked ─► hotel ─► Hotel Booked ─► car ─► Car Booked ─► Trip Confirmed
                                                                            └─► Car Booking Failed
    * Booking Failed (suffix rule) ─► compensator ─► Cancel Hotel ─► hotel (cancels)
                                                   └► Cancel Flight ─► flight (cancels) ─► Trip Cancelled

No service calls another: each consumes events by rule and publishes what happened. A failed step
publishes "<Step> Booking Failed"; one rule routes every such failure to the compensator, which
publishes a "Cancel <Step>" command for each step already booked (newest first), and rules route
those to the services. Each event carries what the trip has booked so far, so the saga ends
consistent: all booked, or all cancelled. The traveller double-clicks "book": every handler is
idempotent per trip, so nothing is booked twice.

Run: python examples/travel_saga.py
"""

from __future__ import annotations

import json
from typing import Any, Callable

import rulebus

STEPS = ("flight", "hotel", "car")


def main() -> dict[str, Any]:
    broker = rulebus.Broker()
    bus = broker.event_bus("travel")
    state: dict[str, dict[str, str]] = {}  # trip -> step or "trip" -> status: what services hold
    log: list[str] = []

    def emit(detail_type: str, trip: dict[str, Any]) -> None:
        bus.put_events([{"Source": "travel.saga", "DetailType": detail_type, "Detail": json.dumps(trip)}])

    def consume(rule: str, detail_types: list[Any], handler: Callable[[dict[str, Any]], None]) -> None:
        """``handler(detail)`` for the rule's events, once per trip (retries and replays skip)."""
        once = rulebus.idempotent(broker, key=lambda event: event["detail"]["trip"], name=rule)(
            lambda event: handler(event["detail"])
        )
        bus.put_rule(rule, event_pattern={"source": ["travel.saga"], "detail-type": detail_types})
        bus.put_targets(rule, [{"Id": rule, "Arn": once, "RetryPolicy": {"MaximumRetryAttempts": 0}}])

    def step(name: str, booked_event: str) -> Callable[[dict[str, Any]], None]:
        def book(trip: dict[str, Any]) -> None:
            if name in trip.get("unavailable", ()):
                emit(f"{name.title()} Booking Failed", trip)
                return
            state.setdefault(trip["trip"], {})[name] = "BOOKED"
            emit(booked_event, {**trip, "booked": [*trip["booked"], name]})

        return book

    def cancel(name: str) -> Callable[[dict[str, Any]], None]:
        def undo(trip: dict[str, Any]) -> None:
            state[trip["trip"]][name] = "CANCELLED"
            if name == trip["booked"][0]:  # the first booking is undone last
                emit("Trip Cancelled", trip)

        return undo

    def compensate(trip: dict[str, Any]) -> None:
        for booked in reversed(trip["booked"]):
            emit(f"Cancel {booked.title()}", trip)

    def finish(status: str) -> Callable[[dict[str, Any]], None]:
        return lambda trip: state.setdefault(trip["trip"], {}).update(trip=status)

    # First rule, so each event is logged before the consumers it sets off publish theirs.
    bus.put_rule("saga-log", event_pattern={"source": [{"prefix": "travel."}]})
    bus.put_targets(
        "saga-log", [{"Id": "log", "Arn": lambda e: log.append(f"{e['detail']['trip']}: {e['detail-type']}")}]
    )
    consume("book-flight", ["Trip Requested"], step("flight", "Flight Booked"))
    consume("book-hotel", ["Flight Booked"], step("hotel", "Hotel Booked"))
    consume("book-car", ["Hotel Booked"], step("car", "Car Booked"))
    consume("confirm", ["Car Booked"], lambda trip: emit("Trip Confirmed", trip))
    consume("compensate", [{"suffix": " Booking Failed"}], compensate)
    for name in STEPS:
        consume(f"cancel-{name}", [f"Cancel {name.title()}"], cancel(name))
    consume("confirmed", ["Trip Confirmed"], finish("CONFIRMED"))
    consume("cancelled", ["Trip Cancelled"], finish("CANCELLED"))

    lisbon = {"trip": "t-1", "to": "Lisbon", "booked": []}
    reykjavik = {"trip": "t-2", "to": "Reykjavik", "booked": [], "unavailable": ["car"]}
    for trip in (lisbon, lisbon, reykjavik):  # t-1 requested twice: a double click
        emit("Trip Requested", trip)
    broker.close()
    return {"state": state, "log": log, "consistent": all(map(consistent, state.values()))}


def consistent(trip: dict[str, str]) -> bool:
    """All three booked and the trip confirmed, or whatever was booked cancelled with the trip."""
    steps = {step: status for step, status in trip.items() if step != "trip"}
    if trip.get("trip") == "CONFIRMED":
        return steps == dict.fromkeys(STEPS, "BOOKED")
    return trip.get("trip") == "CANCELLED" and set(steps.values()) <= {"CANCELLED"}


if __name__ == "__main__":
    outcome = main()
    for line in outcome["log"]:
        print(line)
    for trip, steps in outcome["state"].items():
        print(f"{trip}: {steps}")
    print("every trip ended consistent" if outcome["consistent"] else "INCONSISTENT")
    raise SystemExit(0 if outcome["consistent"] else 1)
