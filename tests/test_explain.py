"""Pattern.explain and RuleSet.explain: why an event does not match, condition by condition."""

from __future__ import annotations

import pytest
import rulebus

PATTERN = {"source": ["com.shop"], "detail": {"amount": [{"numeric": [">", 100]}], "id": [{"exists": True}]}}


def test_a_match_needs_no_explanation() -> None:
    event = {"source": "com.shop", "detail": {"amount": 120, "id": "o-1"}}
    assert rulebus.Pattern(PATTERN).explain(event) == []


def test_each_failing_condition_is_reported() -> None:
    reasons = rulebus.Pattern(PATTERN).explain({"source": "com.shop", "detail": {"amount": 50}})
    assert [(r["path"], r["operator"], r["expected"], r["actual"]) for r in reasons] == [
        ("detail.amount", "numeric", [{"numeric": [">", 100]}], [50]),
        ("detail.id", "exists", [{"exists": True}], []),
    ]
    assert reasons[0]["message"] == 'detail.amount is 50, which does not match {"numeric":[">",100]}'
    assert "absent" in reasons[1]["message"]
    assert all(r["branch"] == 0 for r in reasons)


def test_or_branches_and_required_absence() -> None:
    pattern = {"$or": [{"source": [{"prefix": "aws."}]}, {"detail": {"error": [{"exists": False}]}}]}
    reasons = rulebus.Pattern(pattern).explain({"source": "com.shop", "detail": {"error": "boom"}})
    assert [(r["branch"], r["path"], r["actual"]) for r in reasons] == [
        (0, "source", ["com.shop"]),
        (1, "detail.error", ["boom"]),
    ]
    assert reasons[1]["message"] == 'detail.error must be absent, but the event has "boom"'


def test_array_consistency_is_explained() -> None:
    pattern = {"employees": {"first": ["Anna"], "last": ["Jones"]}}
    event = {"employees": [{"first": "Anna", "last": "Smith"}, {"first": "Peter", "last": "Jones"}]}
    reasons = rulebus.Pattern(pattern).explain(event)
    assert [r["operator"] for r in reasons] == ["array-consistency"]


def test_explain_agrees_with_matches_on_the_conformance_corpora() -> None:
    from helpers.conformance import CASES, texts

    for param in CASES:
        case = param.values[0]
        if case["kind"] != "eventbridge" or case["expected"] == "invalid":
            continue
        pattern, event, _ = texts(case)
        assert (rulebus.Pattern(pattern).explain(event) == []) == case["expected"], case["id"]


def test_ruleset_explain() -> None:
    rs = rulebus.RuleSet()
    rs.add("big", {"detail": {"amount": [{"numeric": [">", 100]}]}})
    assert rs.explain("big", {"detail": {"amount": 500}}) == []
    assert rs.explain("big", {"detail": {"amount": 5}})[0]["actual"] == [5]
    with pytest.raises(KeyError):
        rs.explain("nope", {})
    with pytest.raises(TypeError):
        rulebus.RuleSet("sns").explain("x", {})


def test_ruleset_explain_after_many_replacements() -> None:
    """Rules' text survives the set dropping the text of replaced and removed rules."""
    rs = rulebus.RuleSet()
    for round_ in range(30):
        for i in range(5):
            rs.add(f"r{i}", {"detail": {"n": [{"numeric": [">", round_ * 10 + i]}]}})
        rs.add("gone", {"source": ["x" * 50]})
        rs.remove("gone")
    for i in range(5):
        reason = rs.explain(f"r{i}", {"detail": {"n": 0}})[0]
        assert reason["expected"] == [{"numeric": [">", 290 + i]}]


# --- FilterPolicy.explain: the same for SNS's filter policies ---------------------------------------


def test_a_filter_policy_names_each_failing_attribute() -> None:
    policy = rulebus.FilterPolicy({"store": ["example_corp"], "price_usd": [{"numeric": [">=", 100]}]})
    attributes = {"store": {"DataType": "String", "StringValue": "other"}}
    reasons = policy.explain(attributes)
    assert [(r["path"], r["operator"], r["actual"]) for r in reasons] == [
        ("price_usd", "numeric", []),
        ("store", "equals", ["other"]),
    ]
    assert reasons[0]["message"].startswith("price_usd is absent from the message's attributes")
    passing = {**attributes, "store": {"Type": "String", "Value": "example_corp"}}
    passing["price_usd"] = {"Type": "Number", "Value": "150"}
    assert policy.explain(passing) == []
    assert rulebus.FilterPolicy({}).explain({}) == []


def test_a_body_policy_explains_the_body() -> None:
    policy = rulebus.FilterPolicy({"order": {"total": [{"numeric": [">", 10]}]}}, "MessageBody")
    assert policy.explain(body={"order": {"total": 5}})[0]["actual"] == [5]
    assert policy.explain(body='{"order": {"total": 50}}') == []
    assert policy.explain(body="not json")[0]["message"].startswith("the message body is not a JSON object")
    with pytest.raises(TypeError):
        policy.explain({"a": {"DataType": "String", "StringValue": "x"}})


def test_filter_policy_explain_agrees_with_matches_on_the_conformance_corpora() -> None:
    from helpers.conformance import CASES, texts

    checked = 0
    for param in CASES:
        case = param.values[0]
        if case["kind"] == "eventbridge" or case["expected"] == "invalid":
            continue
        pattern, _, body = texts(case)
        policy = rulebus.FilterPolicy(pattern, scope=case["scope"])
        if case["scope"] == "MessageBody":
            explained = policy.explain(body=body)
        else:
            explained = policy.explain(attributes=case["attributes"] or {})
        assert (explained == []) == case["expected"], case["id"]
        checked += 1
    assert checked > 100
