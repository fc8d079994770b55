"""A tour of rulebus on the examples of the AWS documentation: `python -m rulebus.demo`.

The patterns are the EventBridge user guide's content-filtering and array examples and the SNS
developer guide's filter policies; the events and messages are made up to show each rule at work.
Every sample carries the result AWS gives, so the demo doubles as a smoke test: it exits with
status 1 if rulebus disagrees anywhere.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any, Literal, NamedTuple

import rulebus

WIDTH = 96
MARGIN = 13  # where a sample's fields and reasons start


class Sample(NamedTuple):
    """An event (EventBridge), message attributes or body (SNS), the result AWS gives, and why."""

    data: Any
    expected: bool
    why: str


class Example(NamedTuple):
    title: str
    pattern: dict[str, Any]
    samples: list[Sample]
    scope: Literal["MessageAttributes", "MessageBody"] | None = None  # SNS only


def envelope(detail: dict[str, Any] | None = None, /, **top: Any) -> dict[str, Any]:
    """An EventBridge event with every envelope field; `top` overrides or adds top-level fields."""
    event: dict[str, Any] = {
        "version": "0",
        "id": "0c4f5d2e-9a31-4e0b-8f7d-6b2a1c9e3f10",
        "detail-type": "Order Placed",
        "source": "com.example.shop",
        "account": "123456789012",
        "time": "2026-11-28T09:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail if detail is not None else {},
    }
    event.update(top)
    return event


def attrs(**values: Any) -> dict[str, dict[str, str]]:
    """SNS message attributes as a notification carries them: a str is a String, an int or float a
    Number, a list a String.Array (its value is JSON text)."""
    out = {}
    for name, value in values.items():
        if isinstance(value, list):
            out[name] = {"Type": "String.Array", "Value": json.dumps(value)}
        elif isinstance(value, (int, float)):
            out[name] = {"Type": "Number", "Value": str(value)}
        else:
            out[name] = {"Type": "String", "Value": value}
    return out


# --- EventBridge: the content-filtering examples of the user guide --------------------------------

EVENTBRIDGE: list[Example] = [
    Example(
        "prefix",
        {"time": [{"prefix": "2017-10-02"}]},
        [
            Sample(envelope(time="2017-10-02T18:43:48Z"), True, "the time starts with 2017-10-02"),
            Sample(envelope(time="2017-10-20T08:00:00Z"), False, "2017-10-2... is not 2017-10-02..."),
        ],
    ),
    Example(
        "prefix, ignoring case",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        [
            Sample(envelope({"service": "eventbridge-pipes"}), True, "starts with eventb, case aside"),
            Sample(envelope({"service": "EVENTBUS"}), True, "EVENTB in capitals is still EventB"),
            Sample(envelope({"service": "sns"}), False, "does not start with eventb in any case"),
        ],
    ),
    Example(
        "suffix",
        {"detail": {"FileName": [{"suffix": ".png"}]}},
        [
            Sample(envelope({"FileName": "diagrams/rulebus.png"}), True, "ends with .png"),
            Sample(envelope({"FileName": "scan.PNG"}), False, "suffix is case-sensitive: .PNG is not .png"),
        ],
    ),
    Example(
        "suffix, ignoring case",
        {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
        [
            Sample(envelope({"FileName": "scan.PNG"}), True, ".PNG equals .png when case is ignored"),
            Sample(envelope({"FileName": "scan.png.gz"}), False, "ends with .gz"),
        ],
    ),
    Example(
        "equals-ignore-case",
        {"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]},
        [
            Sample(
                envelope(**{"detail-type": "EC2 Instance State-change Notification"}),
                True,
                "the same words in another case",
            ),
            Sample(
                envelope(**{"detail-type": "EC2 Instance Launch Successful"}),
                False,
                "different words, whatever the case",
            ),
        ],
    ),
    Example(
        "anything-but, a string",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        [
            Sample(envelope({"state": "running"}), True, "running is not initializing"),
            Sample(envelope({"state": "initializing"}), False, "the excluded value"),
            Sample(envelope({"state": None}), True, "null is a value, and not the excluded one"),
            Sample(envelope({"instance": "i-0abc"}), False, "anything-but needs the field to be there"),
        ],
    ),
    Example(
        "anything-but, a number",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        [
            Sample(envelope({"x-limit": 456}), True, "456 is not 123"),
            Sample(envelope({"x-limit": 123.0}), False, "123.0 is the number 123"),
        ],
    ),
    Example(
        "anything-but, a list",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        [
            Sample(envelope({"state": "running"}), True, "not in the excluded list"),
            Sample(envelope({"state": "overloaded"}), False, "in the excluded list"),
        ],
    ),
    Example(
        "anything-but a prefix",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        [
            Sample(envelope({"state": "running"}), True, "does not start with init"),
            Sample(envelope({"state": "initializing"}), False, "starts with init"),
        ],
    ),
    Example(
        "anything-but a suffix",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
        [
            Sample(envelope({"FileName": "report.pdf"}), True, "does not end with .txt"),
            Sample(envelope({"FileName": "notes.txt"}), False, "ends with .txt"),
        ],
    ),
    Example(
        "anything-but, ignoring case",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}},
        [
            Sample(envelope({"state": "pending"}), True, "neither word in any case"),
            Sample(envelope({"state": "STOPPED"}), False, "Stopped in capitals"),
        ],
    ),
    Example(
        "anything-but a wildcard",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
        [
            Sample(envelope({"FilePath": "/usr/bin/rulebus"}), True, "no /lib/ in the path"),
            Sample(envelope({"FilePath": "/usr/lib/librulebus.so"}), False, "the path has /lib/"),
        ],
    ),
    Example(
        "numeric",
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        [
            Sample(
                envelope({"c-count": 5, "d-count": 7, "x-limit": 301.8}),
                True,
                "5 is in (0, 5], 7 is below 10, 301.8 is the 3.018e2 of the guide",
            ),
            Sample(
                envelope({"c-count": 6, "d-count": 7, "x-limit": 301.8}),
                False,
                "6 is above the range (0, 5]",
            ),
            Sample(
                envelope({"c-count": "5", "d-count": 7, "x-limit": 301.8}),
                False,
                'numeric never matches a string, not even "5"',
            ),
        ],
    ),
    Example(
        "IP address (cidr)",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        [
            Sample(envelope({"sourceIPAddress": "10.0.0.255"}), True, "the last address of 10.0.0.0/24"),
            Sample(envelope({"sourceIPAddress": "10.0.1.1"}), False, "outside 10.0.0.0/24"),
        ],
    ),
    Example(
        "IP address (cidr), IPv6",
        {"detail": {"sourceIPAddress": [{"cidr": "2001:db8::/64"}]}},
        [
            Sample(envelope({"sourceIPAddress": "2001:db8::17"}), True, "inside 2001:db8::/64"),
            Sample(envelope({"sourceIPAddress": "2001:db9::17"}), False, "outside 2001:db8::/64"),
        ],
    ),
    Example(
        "exists",
        {"detail": {"state": [{"exists": True}]}},
        [
            Sample(envelope({"state": "running"}), True, "the field is there"),
            Sample(envelope({"instance": "i-0abc"}), False, "there is no detail.state"),
        ],
    ),
    Example(
        "exists: false",
        {"detail": {"state": [{"exists": False}]}},
        [
            Sample(envelope({"instance": "i-0abc"}), True, "there is no detail.state"),
            Sample(envelope({"state": "running"}), False, "the field is there"),
        ],
    ),
    Example(
        "wildcard",
        {"detail": {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]}},
        [
            Sample(
                envelope({"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/orders"}),
                True,
                "each * stands for any run of characters",
            ),
            Sample(
                envelope({"EventBusArn": "arn:aws:events:eu-west-1:123456789012:event-bus/orders"}),
                False,
                "the region is not us-east-1",
            ),
        ],
    ),
    Example(
        "$or (any one of several conditions)",
        {
            "detail": {
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ]
            }
        },
        [
            Sample(envelope({"c-count": 9, "d-count": 3}), True, "c-count fails but d-count < 10"),
            Sample(envelope({"c-count": 9, "d-count": 12, "x-limit": 5}), False, "no branch holds"),
        ],
    ),
    Example(
        "$or across fields",
        {
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
        },
        [
            Sample(
                envelope(source="aws.cloudwatch", metricName="NetworkIn", namespace="AWS/EC2"),
                True,
                "the source and the namespace branch",
            ),
            Sample(
                envelope(source="aws.cloudwatch", metricName="NetworkIn", namespace="AWS/RDS"),
                False,
                "neither branch holds",
            ),
        ],
    ),
    Example(
        "several filters together",
        {
            "time": [{"prefix": "2017-10-02"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            },
        },
        [
            Sample(
                envelope(
                    {"state": "running", "c-count": 3, "d-count": 9, "x-limit": 150},
                    time="2017-10-02T10:00:00Z",
                ),
                True,
                "every field passes its filter",
            ),
            Sample(
                envelope(
                    {"state": "running", "c-count": 3, "d-count": 9, "x-limit": 200},
                    time="2017-10-02T10:00:00Z",
                ),
                False,
                "x-limit 200 is excluded",
            ),
        ],
    ),
    # --- arrays ---
    Example(
        "arrays: any value of the pattern against any value of the event",
        {
            "resources": [
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
            ]
        },
        [
            Sample(
                envelope(
                    resources=[
                        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:5a3c:autoScalingGroupName/web",
                        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                    ]
                ),
                True,
                "the event's second resource is the pattern's first",
            ),
            Sample(
                envelope(resources=["arn:aws:ec2:us-east-1:123456789012:instance/i-0000aaaa"]),
                False,
                "no resource in common",
            ),
        ],
    ),
    Example(
        "arrays of objects: the fields must come from one element",
        {"detail": {"employees": {"first": ["Anna"], "last": ["Jones"]}}},
        [
            Sample(
                envelope(
                    {"employees": [{"first": "Anna", "last": "Jones"}, {"first": "Peter", "last": "Li"}]}
                ),
                True,
                "one element is Anna Jones",
            ),
            Sample(
                envelope(
                    {"employees": [{"first": "Anna", "last": "Smith"}, {"first": "Peter", "last": "Jones"}]}
                ),
                False,
                "Anna and Jones are in different elements",
            ),
        ],
    ),
]

# --- SNS: the filter policies of the developer guide ----------------------------------------------

ORDER_POLICY = {
    "store": ["example_corp"],
    "event": [{"anything-but": "order_cancelled"}],
    "customer_interests": ["rugby", "football", "baseball"],
    "price_usd": [{"numeric": [">=", 100]}],
}
ORDER = {
    "store": "example_corp",
    "event": "order_placed",
    "customer_interests": ["soccer", "rugby", "hockey"],
    "price_usd": 210.75,
}

SNS: list[Example] = [
    Example(
        "message attributes",
        ORDER_POLICY,
        [
            Sample(attrs(**ORDER), True, "rugby is a shared interest, 210.75 >= 100, not cancelled"),
            Sample(attrs(**{**ORDER, "event": "order_cancelled"}), False, "the excluded event"),
            Sample(
                attrs(**{**ORDER, "customer_interests": ["soccer", "hockey"]}),
                False,
                "no interest in common",
            ),
            Sample(
                {k: v for k, v in attrs(**ORDER).items() if k != "price_usd"},
                False,
                "every key of the policy must be present",
            ),
            Sample(
                {
                    "store": {"DataType": "String", "StringValue": "example_corp"},
                    "event": {"DataType": "String", "StringValue": "order_placed"},
                    "customer_interests": {"DataType": "String.Array", "StringValue": '["rugby"]'},
                    "price_usd": {"DataType": "Number", "StringValue": "120"},
                },
                True,
                "boto3's publish(MessageAttributes=...) form works too",
            ),
        ],
        scope="MessageAttributes",
    ),
    Example(
        "message body",
        ORDER_POLICY,
        [
            Sample(ORDER, True, "the same checks, on the JSON body"),
            Sample({**ORDER, "price_usd": "210.75"}, False, "a string in the body is not a number"),
        ],
        scope="MessageBody",
    ),
    Example(
        "message body, nested",
        {"store": ["example_corp"], "order": {"status": ["placed"], "total": [{"numeric": [">", 100]}]}},
        [
            Sample(
                {"store": "example_corp", "order": {"status": "placed", "total": 210.75}},
                True,
                "the store and both nested order fields pass",
            ),
            Sample(
                {"store": "example_corp", "order": {"status": "shipped", "total": 210.75}},
                False,
                "order.status is shipped, not placed",
            ),
        ],
        scope="MessageBody",
    ),
    Example(
        "prefix",
        {"customer_interests": [{"prefix": "bas"}]},
        [
            Sample(attrs(customer_interests=["rugby", "basketball"]), True, "basketball starts with bas"),
            Sample(attrs(customer_interests="baseball"), True, "a String attribute works the same"),
            Sample(attrs(customer_interests=["soccer"]), False, "no value starts with bas"),
        ],
        scope="MessageAttributes",
    ),
    Example(
        "equals-ignore-case",
        {"store": [{"equals-ignore-case": "example_corp"}]},
        [Sample(attrs(store="EXAMPLE_CORP"), True, "the same name in capitals")],
        scope="MessageAttributes",
    ),
    Example(
        "numeric range",
        {"price_usd": [{"numeric": [">", 0, "<=", 150]}]},
        [
            Sample(attrs(price_usd=99.5), True, "99.5 is in (0, 150]"),
            Sample(attrs(price_usd=210.75), False, "210.75 is above 150"),
        ],
        scope="MessageAttributes",
    ),
    Example(
        "key matching (exists: false)",
        {"store": [{"exists": False}]},
        [
            Sample(attrs(event="order_placed"), True, "the message has no store attribute"),
            Sample(attrs(store="example_corp"), False, "the message has one"),
        ],
        scope="MessageAttributes",
    ),
    Example(
        "IP address",
        {"source_ip": [{"cidr": "10.0.0.0/24"}]},
        [
            Sample(attrs(source_ip="10.0.0.7"), True, "inside 10.0.0.0/24"),
            Sample(attrs(source_ip="192.0.2.7"), False, "outside"),
        ],
        scope="MessageAttributes",
    ),
    Example(
        "$or",
        {
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
        },
        [
            Sample(attrs(source="aws.cloudwatch", namespace="AWS/EC2"), True, "the namespace branch"),
            Sample(attrs(source="aws.cloudwatch", namespace="AWS/RDS"), False, "neither branch"),
        ],
        scope="MessageAttributes",
    ),
]

# --- invalid input, with AWS's messages ---------------------------------------------------------

INVALID_PATTERN = {"detail": {"state": "running"}}  # a leaf must be an array: ["running"]
INVALID_PATTERN_REASON = '"state" must be an object or an array'
INVALID_POLICY = {"order": {"status": ["placed"]}}  # nested, but the scope is MessageAttributes
INVALID_POLICY_MESSAGE = "Filter policy scope MessageAttributes does not support nested filter policy"
BARE_EVENT = {"detail": {"state": "running"}}  # no id, account, source, time, region, detail-type


# --- printing ------------------------------------------------------------------------------------


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def layout(value: Any, column: int, lead: int = 0) -> str:
    """JSON that fits the terminal: one line where it fits, else one member per line. The value
    starts `lead` characters after `column`, where its closing bracket goes."""
    text = compact(value)
    if column + lead + len(text) <= WIDTH or not isinstance(value, (dict, list)) or not value:
        return text
    inner = column + 2
    if isinstance(value, dict):
        members = [f"{compact(k)}: {layout(v, inner, len(compact(k)) + 2)}" for k, v in value.items()]
        opening, closing = "{", "}"
    else:
        members = [layout(v, inner) for v in value]
        opening, closing = "[", "]"
    body = ",\n".join(" " * inner + member for member in members)
    return f"{opening}\n{body}\n{' ' * column}{closing}"


def fields(pattern: Mapping[str, Any], data: Any, prefix: str = "") -> Iterator[str]:
    """`path = value` for each field the pattern names, so that a sample shows only what counts."""
    for key, sub in pattern.items():
        if key == "$or" and isinstance(sub, list) and all(isinstance(b, Mapping) for b in sub):
            for branch in sub:
                yield from fields(branch, data, prefix)
            continue
        path = f"{prefix}{key}"
        present = isinstance(data, Mapping) and key in data
        if isinstance(sub, Mapping) and present and isinstance(data[key], Mapping):
            yield from fields(sub, data[key], f"{path}.")
        elif present:
            yield f"{path} = {layout(data[key], MARGIN, len(path) + 3)}"
        else:
            yield f"{path}: absent"


def attribute_fields(
    pattern: Mapping[str, Any], attributes: Mapping[str, Mapping[str, str]]
) -> Iterator[str]:
    for key in pattern:
        if key == "$or":
            for branch in pattern[key]:
                yield from attribute_fields(branch, attributes)
        elif key in attributes:
            attribute = attributes[key]
            kind = attribute.get("Type", attribute.get("DataType"))
            value = attribute.get("Value", attribute.get("StringValue"))
            yield f"{key} = {value} ({kind})"
        else:
            yield f"{key}: absent"


def heading(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


def show_pattern(title: str, pattern: Mapping[str, Any], scope: str | None = None) -> None:
    print()
    print(f"-- {title}" + (f"  [scope {scope}]" if scope else ""))
    print(f"   pattern {layout(pattern, 3, 8)}")


def show_result(got: bool, shown: list[str], sample: Sample) -> bool:
    """Print one sample's result; return whether it agrees with AWS."""
    verdict = "MATCH" if got else "no match"
    margin = " " * MARGIN
    unique = list(dict.fromkeys(shown))
    one_line = "; ".join(unique)
    lines = [one_line] if "\n" not in one_line and len(one_line) <= WIDTH - MARGIN else unique
    print(f"   {verdict:<9} " + f"\n{margin}".join(lines))
    note = f"{margin}why: {sample.why}"
    agrees = got == sample.expected
    if not agrees:
        note += f"   <-- WRONG: AWS says {'match' if sample.expected else 'no match'}"
    print(note)
    return agrees


def run_eventbridge() -> list[str]:
    wrong = []
    heading("EventBridge event patterns: rulebus.Pattern(pattern).matches(event)")
    for example in EVENTBRIDGE:
        show_pattern(example.title, example.pattern)
        pattern = rulebus.Pattern(compact(example.pattern))  # compiled once, matched per sample
        for sample in example.samples:
            got = pattern.matches(compact(sample.data))
            if not show_result(got, list(fields(example.pattern, sample.data)), sample):
                wrong.append(f"EventBridge {example.title}: {sample.why}")
    return wrong


def run_sns() -> list[str]:
    wrong = []
    heading("SNS filter policies: rulebus.FilterPolicy(policy, scope=...).matches(attributes=... | body=...)")
    for example in SNS:
        show_pattern(example.title, example.pattern, example.scope)
        policy = rulebus.FilterPolicy(compact(example.pattern), scope=example.scope or "MessageAttributes")
        for sample in example.samples:
            if example.scope == "MessageBody":
                got = policy.matches(body=compact(sample.data))
                shown = list(fields(example.pattern, sample.data))
            else:
                got = policy.matches(attributes=sample.data)
                shown = list(attribute_fields(example.pattern, sample.data))
            if not show_result(got, shown, sample):
                wrong.append(f"SNS {example.title}: {sample.why}")
    return wrong


def run_test_event_pattern() -> list[str]:
    wrong = []
    heading("AWS TestEventPattern: rulebus.test_event_pattern(pattern, event)")
    pattern = {"source": ["com.example.shop"], "detail": {"state": ["running"]}}
    show_pattern("the event must carry the EventBridge envelope", pattern)
    got = rulebus.test_event_pattern(compact(pattern), envelope({"state": "running"}))
    print(f"   {'MATCH' if got else 'no match':<9} a whole event (given as a dict)")
    if got is not True:
        wrong.append("test_event_pattern on a whole event")
    try:
        rulebus.test_event_pattern(compact(pattern), compact(BARE_EVENT))
    except rulebus.InvalidEventError as error:
        print(f"   refused   {compact(BARE_EVENT)}")
        print(f"             {type(error).__name__}: {error}")
    else:
        print("   accepted an event without id, account, source, time, region   <-- WRONG: AWS refuses it")
        wrong.append("test_event_pattern accepted an event without the envelope")
    return wrong


def run_invalid() -> list[str]:
    wrong = []
    heading("Invalid patterns and policies, with AWS's messages")
    print()
    print(f"   rulebus.Pattern({compact(INVALID_PATTERN)!r})")
    try:
        rulebus.Pattern(compact(INVALID_PATTERN))
    except rulebus.InvalidPatternError as error:
        print(f"   {type(error).__name__} ({error.code}):")
        for line in str(error).splitlines():
            print(f"     {line}")
        print(f"   .reason: {error.reason}")
        if INVALID_PATTERN_REASON not in str(error):
            print(f"   <-- WRONG: AWS's reason is {INVALID_PATTERN_REASON}")
            wrong.append("invalid pattern: reason")
    else:
        print("   accepted   <-- WRONG: AWS refuses it (a leaf must be an array)")
        wrong.append("invalid pattern accepted")
    print()
    print(f"   rulebus.FilterPolicy({compact(INVALID_POLICY)!r}, scope='MessageAttributes')")
    try:
        rulebus.FilterPolicy(compact(INVALID_POLICY), scope="MessageAttributes")
    except rulebus.InvalidFilterPolicyError as error:
        print(f"   {type(error).__name__} ({error.code}):")
        print(f"     {error}")
        if INVALID_POLICY_MESSAGE not in str(error):
            print(f"   <-- WRONG: SNS says {INVALID_POLICY_MESSAGE}")
            wrong.append("invalid policy: message")
    else:
        print("   accepted   <-- WRONG: SNS refuses nested policies in the MessageAttributes scope")
        wrong.append("invalid policy accepted")
    print()
    both = all(
        issubclass(error, base)
        for error in (rulebus.InvalidPatternError, rulebus.InvalidFilterPolicyError)
        for base in (ValueError, rulebus.RulebusError)
    )
    print(f"   Both are caught by `except ValueError` and by `except rulebus.RulebusError`: {both}")
    return wrong


def main() -> int:
    # Imported here: the scenes borrow this module's printing helpers.
    from rulebus import demo_bus, demo_shop

    print(f"rulebus {rulebus.__version__}: the examples of the EventBridge and SNS documentation")
    print("Each sample shows the fields its pattern names, rulebus's verdict, and the reason.")
    wrong = run_eventbridge() + run_sns() + run_test_event_pattern() + run_invalid()
    total = sum(len(e.samples) for e in EVENTBRIDGE + SNS)
    print()
    if wrong:
        print(f"{len(wrong)} result(s) differ from AWS:")
        for line in wrong:
            print(f"  {line}")
    else:
        print(f"All {total} samples, the envelope check and the error messages agree with AWS.")
    broken = demo_shop.run()
    bus_problems = demo_bus.run()
    print()
    if wrong or broken or bus_problems:
        print(
            f"FAILED: {len(wrong)} result(s) differ from AWS, {len(broken)} shop invariant(s) broken, "
            f"{len(bus_problems)} bus problem(s)."
        )
        return 1
    print("The documentation examples agree with AWS; the shop and the bus scenes keep their invariants.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
