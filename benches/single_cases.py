"""The single-pattern workload shared by test_single_pattern.py and compare_single.py.

One realistic EventBridge event of about 1 KB and a handful of patterns, each with the result
AWS gives. Every engine is wrapped as "compile once, then one Python call per match", which is
how the baselines in ../shared/bench/README.md were measured.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, NamedTuple

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7f3c2a9e-51d4-4b8e-9a06-3c1e2f8d7b45",
    "detail-type": "Order Placed",
    "source": "com.example.shop.orders",
    "account": "123456789012",
    "time": "2026-11-28T17:43:21Z",
    "region": "eu-west-1",
    "resources": [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
        "arn:aws:lambda:eu-west-1:123456789012:function:checkout",
    ],
    "detail": {
        "orderId": "o-20261128-000417",
        "status": "PLACED",
        "placedAt": "2026-11-28T17:43:20.512Z",
        "amount": 249.9,
        "currency": "EUR",
        "customer": {
            "id": "c-88412",
            "tier": "gold",
            "country": "DE",
            "email": "kunde@example.com",
            "newsletter": True,
        },
        "items": [
            {"sku": "SKU-1042", "name": "Espresso grinder", "qty": 1, "price": 159.95},
            {"sku": "SKU-2210", "name": "Milk jug 0.6 l", "qty": 2, "price": 19.95},
            {"sku": "SKU-0007", "name": "Descaler", "qty": 3, "price": 16.69},
        ],
        "shipping": {
            "method": "express",
            "carrier": "dhl",
            "address": {"city": "Leipzig", "postalCode": "04109", "country": "DE"},
        },
        "payment": {"method": "card", "brand": "visa", "captured": False},
        "client": {
            "ip": "203.0.113.42",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        },
        "coupon": None,
        "tags": ["web", "black-friday"],
    },
}

EVENT_STR: str = json.dumps(EVENT)
EVENT_BYTES: bytes = EVENT_STR.encode()


class Case(NamedTuple):
    name: str
    pattern: str
    expected: bool


def _pattern(value: dict[str, Any]) -> str:
    return json.dumps(value)


CASES: list[Case] = [
    Case(
        "exact+prefix",
        _pattern(
            {
                "source": ["com.example.shop.orders"],
                "detail-type": ["Order Placed"],
                "region": [{"prefix": "eu-"}],
            }
        ),
        True,
    ),
    Case(
        "numeric-range",
        _pattern({"detail": {"amount": [{"numeric": [">", 100, "<=", 500]}]}}),
        True,
    ),
    Case(
        "anything-but",
        _pattern({"detail": {"status": [{"anything-but": ["CANCELLED", "REFUNDED"]}]}}),
        True,
    ),
    Case(
        "wildcard",
        _pattern({"resources": [{"wildcard": "arn:aws:dynamodb:*:123456789012:table/*"}]}),
        True,
    ),
    Case(
        "miss",
        _pattern({"source": ["com.example.shop.orders"], "detail": {"customer": {"tier": ["platinum"]}}}),
        False,
    ),
]

CASE_IDS = [case.name for case in CASES]

Matcher = Callable[[Any], bool]


def rulebus_matcher(pattern: str) -> Matcher:
    import rulebus

    return rulebus.Pattern(pattern).matches


def moto_matcher(pattern: str) -> Matcher:
    from moto.events.models import EventPattern

    return EventPattern.load(pattern).matches_event


def _localstack() -> tuple[Any, Any] | str:
    """LocalStack's rule engine, or why it cannot be imported here."""
    try:
        from localstack.services.events.event_rule_engine import EventPatternCompiler, EventRuleEngine
    except Exception as exc:  # ImportError, or a LocalStack that wants more of its runtime
        return f"{type(exc).__name__}: {exc}"
    return EventPatternCompiler(), EventRuleEngine()


LOCALSTACK = _localstack()
LOCALSTACK_MISSING: str | None = LOCALSTACK if isinstance(LOCALSTACK, str) else None


def localstack_matcher(pattern: str) -> Matcher:
    if isinstance(LOCALSTACK, str):
        raise RuntimeError(f"LocalStack's rule engine is not importable: {LOCALSTACK}")
    compiler, engine = LOCALSTACK
    # LocalStack compiles (validates) once per rule and evaluates the compiled pattern per event.
    return functools.partial(engine.evaluate_pattern_on_event, compiler.compile_event_pattern(pattern))
