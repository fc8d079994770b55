"""The web console of `rulebus serve` (/_rulebus/): its JSON API over HTTP on memory and SQLite,
the headers that keep a hostile page or message from using it, and the page itself in a real
headless Chromium (skipped only when Debian's chromium and chromium-driver are not installed).

Screenshots of the page go to a temporary directory, or to $RULEBUS_CONSOLE_SCREENSHOTS when set
(to look at them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.aws_server import RunningServer

ACCOUNT = "000000000000"
REGION = "us-east-1"
HOSTILE = "<script>window.pwned=1</script><img src=x onerror=window.pwned=1>"
CONSOLE_HEADERS = {"Content-Type": "application/json", "X-Rulebus-Console": "1"}


@pytest.fixture(params=["memory", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    store = None if request.param == "memory" else f"sqlite:///{tmp_path}/aws.db"
    with RunningServer(store=store) as running:
        yield running


def _call(
    server: RunningServer,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(server.url + path, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def _get_json(server: RunningServer, path: str) -> Any:
    status, headers, body = _call(server, path)
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    return json.loads(body)


def _test_pattern(
    server: RunningServer, payload: object, headers: dict[str, str] = CONSOLE_HEADERS
) -> tuple[int, Any]:
    status, _, body = _call(
        server, "/_rulebus/api/test-pattern", "POST", json.dumps(payload).encode(), headers
    )
    return status, json.loads(body)


def _scope(overview: dict[str, Any], account: str = ACCOUNT, region: str = REGION) -> dict[str, Any]:
    (scope,) = [s for s in overview["scopes"] if (s["account"], s["region"]) == (account, region)]
    return scope


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (item,) = [i for i in items if i["name"] == name]
    return item


def populate(server: RunningServer) -> dict[str, str]:
    """A bit of everything, through boto3: queues with a DLQ and messages in every state, a
    topic fanning out through a filter policy, a bus rule with a target and an archive, a stream
    with two shards, and a queue in another region."""
    sqs, sns, events, kinesis = (server.client(name) for name in ("sqs", "sns", "events", "kinesis"))
    dlq = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    orders = sqs.create_queue(QueueName="orders", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    orders_arn = sqs.get_queue_attributes(QueueUrl=orders, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for body in ("first", "second", "third"):
        sqs.send_message(QueueUrl=orders, MessageBody=body)
    sqs.send_message(QueueUrl=orders, MessageBody="later", DelaySeconds=600)
    sqs.receive_message(QueueUrl=orders, MaxNumberOfMessages=1, VisibilityTimeout=600)  # "first" in flight
    hostile = sqs.create_queue(QueueName="hostile.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    sqs.send_message(
        QueueUrl=hostile,
        MessageBody=HOSTILE,
        MessageGroupId="<script>window.pwned=1</script>",
        MessageDeduplicationId="d1",
        MessageAttributes={"Note": {"DataType": "String", "StringValue": HOSTILE}},
    )
    topic = sns.create_topic(Name="order-events")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=orders_arn,
        Attributes={
            "FilterPolicy": json.dumps({"kind": ["<script>big</script>"]}),
            "RawMessageDelivery": "true",
        },
    )
    sns.publish(TopicArn=topic, Message="not for orders")  # filtered out
    events.put_rule(
        Name="big-orders", EventPattern=json.dumps({"source": ["com.shop"], "detail": {"x": [HOSTILE]}})
    )
    events.put_targets(Rule="big-orders", Targets=[{"Id": "to-orders", "Arn": orders_arn}])
    events.create_archive(
        ArchiveName="everything", EventSourceArn=f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"
    )
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    server.client("sqs", region="eu-west-1").create_queue(QueueName="far-away")
    return {
        "orders": orders,
        "dlq_arn": dlq_arn,
        "orders_arn": orders_arn,
        "hostile": hostile,
        "topic": topic,
    }


# --- the JSON API ------------------------------------------------------------------------------


def test_overview_shows_every_resource_with_its_counts(server: RunningServer) -> None:
    made = populate(server)
    overview = _get_json(server, "/_rulebus/api/overview")
    scope = _scope(overview)
    orders = _named(scope["queues"], "orders")
    assert (orders["visible"], orders["inFlight"], orders["delayed"]) == (2, 1, 1)
    assert orders["redrivePolicy"] == {"deadLetterTargetArn": made["dlq_arn"], "maxReceiveCount": 3}
    dlq = _named(scope["queues"], "orders-dlq")
    assert dlq["deadLetterSources"] == ["orders"]
    assert dlq["moveTasks"] == []
    assert _named(scope["queues"], "hostile.fifo")["fifo"] is True
    (subscription,) = _named(scope["topics"], "order-events")["subscriptions"]
    assert subscription["endpoint"] == made["orders_arn"]
    assert json.loads(subscription["filterPolicy"]) == {"kind": ["<script>big</script>"]}
    assert (subscription["delivered"], subscription["filtered"], subscription["rawMessageDelivery"]) == (
        0,
        1,
        True,
    )
    bus = _named(scope["buses"], "default")
    (rule,) = bus["rules"]
    assert (rule["Name"], rule["State"]) == ("big-orders", "ENABLED")
    assert json.loads(rule["EventPattern"])["detail"]["x"] == [HOSTILE]
    assert rule["targets"] == [{"Id": "to-orders", "Arn": made["orders_arn"]}]
    assert [a["ArchiveName"] for a in bus["archives"]] == ["everything"]
    stream = _named(scope["streams"], "clicks")
    assert (stream["openShards"], len(stream["shards"]), stream["status"]) == (2, 2, "ACTIVE")
    assert all(shard["open"] for shard in stream["shards"])
    # Scopes as AWS keeps them: the other region's queue is in its own scope only.
    assert [q["name"] for q in _scope(overview, region="eu-west-1")["queues"]] == ["far-away"]
    assert "far-away" not in [q["name"] for q in scope["queues"]]


def test_counts_follow_the_queue_live(server: RunningServer) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="work")["QueueUrl"]

    def counts() -> tuple[int, int, int]:
        queue = _named(_scope(_get_json(server, "/_rulebus/api/overview"))["queues"], "work")
        return queue["visible"], queue["inFlight"], queue["delayed"]

    assert counts() == (0, 0, 0)
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    assert counts() == (2, 0, 0)
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert counts() == (1, 1, 0)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert counts() == (1, 0, 0)


def test_peek_does_not_receive(server: RunningServer) -> None:
    made = populate(server)
    path = f"/_rulebus/api/messages?account={ACCOUNT}&region={REGION}&queue=orders&max=10"
    for _ in range(3):
        peeked = _get_json(server, path)
    assert [(m["body"], m["state"]) for m in peeked["messages"]] == [
        ("first", "in flight"),
        ("second", "visible"),
        ("third", "visible"),
        ("later", "delayed"),
    ]
    assert [m["attributes"]["ApproximateReceiveCount"] for m in peeked["messages"]] == ["1", "0", "0", "0"]
    orders = _named(_scope(_get_json(server, "/_rulebus/api/overview"))["queues"], "orders")
    assert (orders["visible"], orders["inFlight"], orders["delayed"]) == (2, 1, 1)
    sqs = server.client("sqs")
    received = sqs.receive_message(QueueUrl=made["orders"], MaxNumberOfMessages=10, AttributeNames=["All"])
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in received["Messages"]] == [
        ("second", "1"),
        ("third", "1"),
    ]
    assert _get_json(server, path.replace("max=10", "max=1"))["messages"][0]["body"] == "first"


def test_markup_comes_back_as_data(server: RunningServer) -> None:
    populate(server)
    status, headers, raw = _call(
        server, f"/_rulebus/api/messages?account={ACCOUNT}&region={REGION}&queue=hostile.fifo"
    )
    assert (headers["content-type"], headers["x-content-type-options"]) == ("application/json", "nosniff")
    assert status == 200
    assert b"<script" not in raw and b"<img" not in raw  # escaped inside the JSON strings
    (message,) = json.loads(raw)["messages"]
    assert message["body"] == HOSTILE
    assert message["attributes"]["MessageGroupId"] == "<script>window.pwned=1</script>"
    assert message["messageAttributes"] == {"Note": {"DataType": "String", "StringValue": HOSTILE}}
    _, _, raw_overview = _call(server, "/_rulebus/api/overview")
    assert b"<script" not in raw_overview
    status, result = _test_pattern(
        server, {"pattern": {"detail": {"x": [HOSTILE]}}, "event": {"detail": {"x": "<b>"}}}
    )
    assert status == 200
    assert result["matches"] is False
    assert result["reasons"][0]["expected"] == [HOSTILE]
    assert result["reasons"][0]["actual"] == ["<b>"]


def test_pattern_tester_matches_and_explains(server: RunningServer) -> None:
    pattern = json.dumps({"source": ["com.shop"], "detail": {"amount": [{"numeric": [">", 100]}]}})
    status, result = _test_pattern(
        server, {"pattern": pattern, "event": {"source": "com.shop", "detail": {"amount": 150}}}
    )
    assert (status, result) == (200, {"matches": True, "reasons": []})
    status, result = _test_pattern(
        server, {"pattern": pattern, "event": '{"source": "com.shop", "detail": {"amount": 50}}'}
    )
    assert status == 200 and result["matches"] is False
    (reason,) = result["reasons"]
    assert (reason["path"], reason["operator"], reason["actual"]) == ("detail.amount", "numeric", [50])
    assert "detail.amount is 50" in reason["message"]
    status, result = _test_pattern(server, {"pattern": '{"source": "not a list"}', "event": "{}"})
    assert status == 400 and result["error"]["code"] == "InvalidEventPatternException"
    assert "Event pattern is not valid" in result["error"]["message"]
    status, result = _test_pattern(server, {"pattern": pattern, "event": "not json"})
    assert status == 400 and result["error"]["code"] == "InvalidEventException"
    status, result = _test_pattern(server, {"pattern": pattern})
    assert status == 400 and result["error"]["code"] == "MissingParameter"


def test_state_changes_only_by_a_same_origin_json_post(server: RunningServer) -> None:
    body = json.dumps({"pattern": {"a": ["b"]}, "event": {"a": "b"}}).encode()
    path = "/_rulebus/api/test-pattern"
    # What a cross-site form can send: a simple content type, no custom header.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _call(server, path, "POST", body, form)[0] == 415
    assert (
        _call(server, path, "POST", body, {"Content-Type": "text/plain", "X-Rulebus-Console": "1"})[0] == 415
    )
    assert _call(server, path, "POST", body, {"Content-Type": "application/json"})[0] == 403
    cross = {**CONSOLE_HEADERS, "Origin": "https://evil.example"}
    assert _call(server, path, "POST", body, cross)[0] == 403
    same = {**CONSOLE_HEADERS, "Origin": server.url}
    assert _call(server, path, "POST", body, same)[0] == 200
    assert _call(server, path)[0] == 405  # the tester is never a GET
    assert _call(server, "/_rulebus/api/overview", "POST", b"{}", CONSOLE_HEADERS)[0] == 405
    assert _call(server, "/_rulebus/api/messages", "DELETE")[0] == 405
    status, _, raw = _call(server, path, "POST", b"[1]", CONSOLE_HEADERS)
    assert status == 400 and json.loads(raw)["error"]["code"] == "SerializationException"
    assert _call(server, path, "POST", b"{" * 300_000, CONSOLE_HEADERS)[0] == 413


def test_reading_makes_nothing(server: RunningServer) -> None:
    server.client("sqs").create_queue(QueueName="here")
    for query in (
        f"account={ACCOUNT}&region=ap-south-1&queue=here",  # a scope with nothing in it
        f"account={ACCOUNT}&region={REGION}&queue=missing",
    ):
        status, _, raw = _call(server, f"/_rulebus/api/messages?{query}")
        assert status == 404, raw
    overview = _get_json(server, "/_rulebus/api/overview")
    assert [(s["account"], s["region"]) for s in overview["scopes"]] == [(ACCOUNT, REGION)]
    assert [q["name"] for q in overview["scopes"][0]["queues"]] == ["here"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "MissingParameter"),
        (f"account={ACCOUNT}&region={REGION}", "MissingParameter"),
        (f"account={ACCOUNT}&region={REGION}&queue=q&max=0", "InvalidParameterValue"),
        (f"account={ACCOUNT}&region={REGION}&queue=q&max=101", "InvalidParameterValue"),
        (f"account={ACCOUNT}&region={REGION}&queue=q&max=-1", "InvalidParameterValue"),
        (f"account={ACCOUNT}&region={REGION}&queue=q&max=%00", "InvalidParameterValue"),
    ],
)
def test_bad_message_queries_are_refused(server: RunningServer, query: str, code: str) -> None:
    server.client("sqs").create_queue(QueueName="q")
    status, _, raw = _call(server, f"/_rulebus/api/messages?{query}")
    assert status == 400
    assert json.loads(raw)["error"]["code"] == code


def test_the_page_allows_only_its_own_inline_style_and_script(server: RunningServer) -> None:
    status, headers, raw = _call(server, "/_rulebus/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in headers["content-security-policy"]
    html = raw.decode()
    (script,) = re.findall(r"<script>(.*?)</script>", html, re.S)
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    for text, directive in ((script, "script-src"), (style, "style-src")):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert policy[directive] == f"'sha256-{digest}'"
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script
    assert re.search(r"\bstyle=", html) is None and re.search(r"\bon[a-z]+=", html) is None
    assert _call(server, "/_rulebus", "GET")[0] in (200, 308)  # urllib follows the redirect
    assert _call(server, "/_rulebus/nothing-here")[0] == 404


# --- the page in a real browser ---------------------------------------------------------------


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture
def browser() -> Iterator[Any]:
    found = _chromium()
    if found is None:
        pytest.skip("headless Chromium not installed (Debian: apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium not installed (requirements-dev.txt)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1300",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=found[1]))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    chosen = os.environ.get("RULEBUS_CONSOLE_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _wait_for(driver: Any, script: str, expected: Any, *args: Any) -> Any:
    """Run ``script`` in the page until it returns ``expected`` (the page polls every 3 s)."""
    from selenium.webdriver.support.wait import WebDriverWait

    seen: list[Any] = []

    def arrived(d: Any) -> bool:
        seen.append(d.execute_script(script, *args))
        return bool(seen[-1] == expected)

    try:
        WebDriverWait(driver, 30, poll_frequency=0.1).until(arrived)
    except Exception:
        raise AssertionError(f"{script!r} gave {seen[-1:]!r}, not {expected!r}") from None
    return seen[-1]


_CELL = (
    "const cell = document.querySelector(`tr[data-queue='${arguments[0]}'] "
    "td[data-count='${arguments[1]}']`);"
    " return cell && cell.textContent;"
)
_TEXT = "const node = document.querySelector(arguments[0]); return node && node.textContent;"


def test_the_page_in_chromium(browser: Any, screenshots: Path) -> None:
    from selenium.webdriver.common.by import By

    with RunningServer() as server:
        made = populate(server)
        browser.get(server.url + "/_rulebus/")
        # Queues with their counts, topics, buses, streams, per scope.
        assert _wait_for(browser, _CELL, "2", "orders", "visible") == "2"
        assert browser.execute_script(_CELL, "orders", "inFlight") == "1"
        assert browser.execute_script(_CELL, "orders", "delayed") == "1"
        assert "after 3 receives" in browser.execute_script(_TEXT, "tr[data-queue='orders']")
        assert "DLQ" in browser.execute_script(_TEXT, "tr[data-queue='orders-dlq']")
        topic = browser.execute_script(_TEXT, "[data-topic='order-events']")
        assert made["orders_arn"] in topic and "<script>big</script>" in topic
        rule = browser.execute_script(_TEXT, "[data-rule='big-orders']")
        assert "to-orders" in rule and "window.pwned=1" in rule
        assert "everything" in browser.execute_script(_TEXT, "[data-archive='everything']")
        stream = browser.execute_script(_TEXT, "[data-stream='clicks']")
        assert "2 open of 2 shard(s)" in stream and "shardId-000000000001" in stream
        assert "far-away" in browser.execute_script(_TEXT, f"[data-scope='{ACCOUNT}/eu-west-1']")
        browser.save_screenshot(str(screenshots / "overview.png"))

        # Live counts: a message sent now shows within a poll.
        server.client("sqs").send_message(QueueUrl=made["orders"], MessageBody="fourth")
        assert _wait_for(browser, _CELL, "3", "orders", "visible") == "3"

        # The message browser: the hostile body is text, and nothing in it ran.
        browser.find_element(By.CSS_SELECTOR, "tr[data-queue='hostile.fifo'] button").click()
        assert _wait_for(browser, _TEXT, HOSTILE, "#messages pre.body") == HOSTILE
        assert HOSTILE in browser.execute_script(_TEXT, "#messages pre.attributes")
        assert "group <script>window.pwned=1</script>" in browser.execute_script(_TEXT, "#messages")
        browser.execute_script("document.getElementById('browser').scrollIntoView()")
        browser.save_screenshot(str(screenshots / "messages.png"))
        assert browser.execute_script("return typeof window.pwned") == "undefined"
        assert browser.execute_script("return document.querySelectorAll('img').length") == 0
        assert browser.execute_script("return document.scripts.length") == 1
        assert browser.execute_script(_CELL, "hostile.fifo", "visible") == "1"  # browsed, not received
        received = server.client("sqs").receive_message(QueueUrl=made["hostile"], AttributeNames=["All"])
        assert received["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "1"
        # The open browser follows the queue live: the message is now in flight, received once.
        _wait_for(browser, _TEXT, "in flight", "#messages tbody tr td:nth-child(2) .tag")
        assert "until 20" in browser.execute_script(_TEXT, "#messages tbody tr td:nth-child(2)")
        assert browser.execute_script(_TEXT, "#messages tbody tr td:nth-child(3)") == "1"

        # The pattern tester: no match with its reasons, then a match.
        browser.find_element(By.ID, "test").click()
        _wait_for(browser, _TEXT, "✗ The event does not match the pattern.", "#verdict")
        assert "detail.amount is 50" in browser.execute_script(_TEXT, "#reasons")
        browser.execute_script("document.getElementById('tester').scrollIntoView()")
        browser.save_screenshot(str(screenshots / "tester-no-match.png"))
        event = browser.find_element(By.ID, "event")
        event.clear()
        event.send_keys(json.dumps({"source": "com.shop", "detail": {"amount": 150}}))
        browser.find_element(By.ID, "test").click()
        _wait_for(browser, _TEXT, "✓ The event matches the pattern.", "#verdict")
        pattern = browser.find_element(By.ID, "pattern")
        pattern.clear()
        pattern.send_keys('{"detail": {"x": ["' + HOSTILE + '"]}}')
        browser.find_element(By.ID, "test").click()
        _wait_for(browser, _TEXT, "✗ The event does not match the pattern.", "#verdict")
        assert HOSTILE in browser.execute_script(_TEXT, "#reasons")
        browser.execute_script("document.getElementById('tester').scrollIntoView()")
        browser.save_screenshot(str(screenshots / "tester-hostile.png"))
        assert browser.execute_script("return typeof window.pwned") == "undefined"

        # The page's own inline style and script ran under the policy, nothing was refused.
        assert (
            browser.execute_script("return getComputedStyle(document.querySelector('header')).position")
            == "sticky"
        )
        refused = [
            entry["message"]
            for entry in browser.get_log("browser")
            if "Content Security Policy" in entry["message"]
        ]
        assert refused == []
