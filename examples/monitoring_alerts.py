"""Monitoring alerts: CloudWatch-alarm-shaped events routed by severity to SNS topics.

    alarm forwarder ──► ops bus ── page-critical (numeric, prefix) ──► pager topic ──► page
                                ├─ chat-warnings (numeric) ─────────► ops-chat topic ──► post-to-chat
                                ├─ chat-recoveries (input template) ─► ops-chat topic
                                └─ ticket-non-prod (anything-but) ──► tickets queue ══► open-tickets

The consumers are functions, as Lambda's would be: the topics invoke ``page`` and
``post-to-chat`` asynchronously, and an event source mapping feeds ``open-tickets`` from its
queue in batches.

The detail is CloudWatch's "Alarm State Change" detail plus the severity (1 worst, 4 least) our
alarms carry in their tags. AWS emits these with source ``aws.cloudwatch``, which PutEvents refuses
to anyone else (as AWS does), so the forwarder here uses ``acme.cloudwatch``. The forwarder sends
at least once: ``page`` is idempotent per alarm state change, so nobody is woken twice.

Run: python examples/monitoring_alerts.py
"""

from __future__ import annotations

import json
from typing import Any

import rulebus


def alarm(name: str, state: str, previous: str, severity: int, at: str) -> dict[str, Any]:
    """A PutEvents entry carrying one alarm's state change."""
    detail = {
        "alarmName": name,
        "severity": severity,
        "state": {"value": state, "reason": f"Threshold crossed: {name}", "timestamp": at},
        "previousState": {"value": previous},
        "configuration": {"metrics": [{"id": "m1", "metricStat": {"stat": "Sum", "period": 60}}]},
    }
    return {
        "Source": "acme.cloudwatch",
        "DetailType": "CloudWatch Alarm State Change",
        "Resources": [f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}"],
        "Detail": json.dumps(detail),
    }


def main() -> dict[str, Any]:
    # Without background functions, run_functions() below invokes them here, once the alarms
    # are in (with them, broker.wait_until_idle() would wait for the pool instead).
    broker = rulebus.Broker(background_functions=False)
    bus = broker.event_bus("ops")
    pager, chat_topic, tickets = broker.topic("pager"), broker.topic("ops-chat"), broker.queue("tickets")
    alarms = {"source": ["acme.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}

    def route(rule: str, detail: dict[str, Any], target: dict[str, Any]) -> None:
        bus.put_rule(rule, event_pattern={**alarms, "detail": detail})
        bus.put_targets(rule, [{"Id": rule, **target}])

    route(
        "page-critical",
        {
            "alarmName": [{"prefix": "prod-"}],
            "severity": [{"numeric": ["<=", 2]}],
            "state": {"value": ["ALARM"]},
        },
        {"Arn": pager.arn},
    )
    route(
        "chat-warnings",
        {"severity": [{"numeric": [">", 2, "<=", 4]}], "state": {"value": ["ALARM"]}},
        {"Arn": chat_topic.arn, "InputPath": "$.detail"},
    )
    route(
        "chat-recoveries",
        {"state": {"value": ["OK"]}, "previousState": {"value": ["ALARM"]}},
        {
            "Arn": chat_topic.arn,
            "InputTransformer": {
                "InputPathsMap": {"alarm": "$.detail.alarmName", "at": "$.detail.state.timestamp"},
                "InputTemplate": '"RESOLVED <alarm> at <at>"',
            },
        },
    )
    route(
        "ticket-non-prod",
        {
            "alarmName": [{"anything-but": {"prefix": "prod-"}}],
            "state": {"value": [{"anything-but": ["INSUFFICIENT_DATA"]}]},
        },
        {"Arn": tickets.arn, "InputPath": "$.detail.alarmName"},
    )

    pages: list[str] = []
    chat: list[Any] = []
    opened: list[str] = []

    def state_change(notification: dict[str, Any]) -> str:
        detail = json.loads(notification["Message"])["detail"]
        return f"{detail['alarmName']}@{detail['state']['timestamp']}"

    @rulebus.idempotent(broker, key=state_change, ttl=3600)
    def page_once(notification: dict[str, Any]) -> None:
        detail = json.loads(notification["Message"])["detail"]
        pages.append(f"SEV{detail['severity']} {detail['alarmName']}: {detail['state']['reason']}")

    @broker.function("page")
    def page(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:  # Lambda's SNS event: one record, the notification
            page_once(record["Sns"])

    @broker.function("post-to-chat")
    def post_to_chat(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            chat.append(json.loads(record["Sns"]["Message"]))

    @broker.function("open-tickets")
    def open_tickets(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:  # Lambda's SQS event: a batch of messages
            opened.append(json.loads(record["body"]))

    # Subscribed as functions (their Function objects, or their ARNs): invoked asynchronously.
    pager.subscribe(broker.get_function("page"))
    chat_topic.subscribe(broker.get_function("post-to-chat"))
    broker.create_event_source_mapping(function_name="open-tickets", event_source_arn=tickets.arn)

    database_down = alarm("prod-db-connections", "ALARM", "OK", 1, "2026-11-29T10:00:00Z")
    bus.put_events(
        [
            database_down,
            database_down,  # the forwarder retried: a new event, the same state change
            alarm("prod-api-latency", "ALARM", "OK", 3, "2026-11-29T10:01:00Z"),
            alarm("staging-api-5xx", "ALARM", "OK", 1, "2026-11-29T10:02:00Z"),
            alarm("staging-disk", "INSUFFICIENT_DATA", "OK", 4, "2026-11-29T10:03:00Z"),
            alarm("prod-db-connections", "OK", "ALARM", 1, "2026-11-29T10:20:00Z"),
        ]
    )
    broker.run_functions()
    broker.close()
    return {
        "pages": pages,
        "warnings": [message["alarmName"] for message in chat if isinstance(message, dict)],
        "resolved": [message for message in chat if isinstance(message, str)],
        "tickets": opened,
    }


if __name__ == "__main__":
    outcome = main()
    for line in outcome["pages"]:
        print(f"paged on-call: {line}")
    print(f"ops-chat warnings: {outcome['warnings']}; recoveries: {outcome['resolved']}")
    print(f"tickets for non-production alarms: {outcome['tickets']}")
    raise SystemExit(0 if len(outcome["pages"]) == 1 and outcome["tickets"] == ["staging-api-5xx"] else 1)
