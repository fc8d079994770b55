"""Amazon SQS's operations (SQS API Reference) on a broker's queues.

Queues are addressed by QueueUrl: the account and name are the last two segments of the URL's
path, whatever its host (``https://sqs.<region>.amazonaws.com/<account>/<name>``, a
``http://localhost:4566/<account>/<name>`` of LocalStack or moto, a path-style
``/queue/<region>/<account>/<name>``), so a URL an SDK built for AWS or an emulator reaches the
queue. The URLs rulebus answers with are AWS's form when the client addressed an AWS endpoint,
else built on the Host the client addressed, so that they lead back to this server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from rulebus import validation
from rulebus._errors import AwsError, NotFound, RulebusError, sqs_error
from rulebus.aws.request import Request
from rulebus.aws.services.operations import OperationTable, page, required
from rulebus.aws.services.permissions import statement, with_statement, without_statement
from rulebus.aws.services.tagging import check_tags, checked_map
from rulebus.broker import Broker
from rulebus.sqs.attributes import queue_url, validate_queue_name
from rulebus.sqs.errors import queue_does_not_exist
from rulebus.sqs.queue import Message, Queue

__all__ = ["ASYNC_OPERATIONS", "OPERATIONS", "queue_from_url", "wire_queue_url"]

SQS = validation.SQS

#: ListQueues and ListDeadLetterSourceQueues answer at most this many URLs (SQS API Reference).
MAX_LIST_RESULTS = 1000

_AWS_HOST = re.compile(r"(^|\.)amazonaws\.com(\.cn)?$", re.IGNORECASE)


def _translate(error: RulebusError, request: Request) -> AwsError | None:
    if isinstance(error, NotFound):
        return queue_does_not_exist()
    return None


operation = OperationTable(_translate)
OPERATIONS = operation.handlers
#: The operations that may wait, as coroutines (an HTTP server's event loop awaits them).
ASYNC_OPERATIONS = operation.async_handlers


# --------------------------------------------------------------------------------------------
# Queue URLs.


def _host_base(request: Request) -> str | None:
    """The scheme and host queue URLs are built on; None for AWS's own endpoints (and a request
    that names no host), whose URLs have AWS's form."""
    host = request.host
    if not host or _AWS_HOST.search(host.rsplit(":", 1)[0] if host.count(":") == 1 else host):
        return None
    return host if "://" in host else f"http://{host}"


def wire_queue_url(request: Request, name: str) -> str:
    """The QueueUrl rulebus answers with for the queue ``name`` of the request's account."""
    return queue_url(name, request.region, request.account, _host_base(request))


def queue_from_url(broker: Broker, request: Request, url: Any) -> Queue:
    """The queue a QueueUrl names, in the request's account: QueueDoesNotExist, as AWS words it,
    for a URL of another account, one that names no queue, or a queue that is not there."""
    url = validation.text(url, "QueueUrl", SQS)
    named = _named_queue(url)
    if named is None or named[0] != request.account:
        raise queue_does_not_exist()
    queue = Queue(broker.context, named[1])
    queue.queue_attributes()  # QueueDoesNotExist when absent
    return queue


def _named_queue(url: str) -> tuple[str, str] | None:
    """The (account, queue name) a QueueUrl names, or None when it names no queue. Cached: a
    program sends to a few queues, many times (the URL is read on every call); a URL longer
    than any real one is read without being kept."""
    if url in _QUEUE_URLS:
        return _QUEUE_URLS[url]
    named = _queue_url_parts(url)
    if len(url) <= _CACHED_URL_LENGTH:
        if len(_QUEUE_URLS) >= _CACHED_URLS:
            _QUEUE_URLS.clear()  # URLs without end: start again rather than grow
        _QUEUE_URLS[url] = named
    return named


# Room for any queue URL rulebus or AWS writes (an 80-character name, a host, an account), and
# for the queues of any program.
_CACHED_URL_LENGTH = 512
_CACHED_URLS = 4096
_QUEUE_URLS: dict[str, tuple[str, str] | None] = {}


def _queue_url_parts(url: str) -> tuple[str, str] | None:
    try:
        path = urlsplit(url).path if "://" in url else url
    except ValueError:
        return None
    segments = [unquote(part) for part in path.split("/") if part]
    if len(segments) < 2:
        return None
    try:
        validate_queue_name(segments[-1])
    except AwsError:
        return None
    return segments[-2], segments[-1]


def _queue(broker: Broker, request: Request) -> Queue:
    return queue_from_url(broker, request, required(request.params, "QueueUrl", SQS))


# --------------------------------------------------------------------------------------------
# Queues.


@operation("CreateQueue")
def create_queue(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    name = validation.text(required(params, "QueueName", SQS), "QueueName", SQS)
    tags = params.get("tags")
    if tags is not None:
        _check_tags(tags, {})
    queue = broker.create_queue(name, params.get("Attributes"))
    if tags:
        _check_tags(tags, broker.tags(queue.arn))
        broker.tag_resource(queue.arn, tags)
    return {"QueueUrl": wire_queue_url(request, queue.name)}


@operation("GetQueueUrl")
def get_queue_url(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    name = validation.text(required(params, "QueueName", SQS), "QueueName", SQS)
    owner = params.get("QueueOwnerAWSAccountId")
    if owner is not None and owner != request.account:
        raise queue_does_not_exist()
    try:
        validate_queue_name(name)
    except AwsError:
        raise queue_does_not_exist() from None
    Queue(broker.context, name).queue_attributes()  # QueueDoesNotExist when absent
    return {"QueueUrl": wire_queue_url(request, name)}


@operation("DeleteQueue")
def delete_queue(broker: Broker, request: Request) -> Mapping[str, Any]:
    broker.delete_queue(_queue(broker, request).name)
    return {}


def _bad_token() -> AwsError:
    # Our wording in SQS's style (AWS documents only the code).
    return sqs_error("InvalidParameterValue", "Invalid value for the parameter NextToken.")


def _max_results(params: Mapping[str, Any]) -> int | None:
    limit = params.get("MaxResults")
    if limit is None:
        return None
    limit = validation.integer(limit, "MaxResults", SQS)
    if not 1 <= limit <= MAX_LIST_RESULTS:
        raise sqs_error(
            "InvalidParameterValue",
            f"Value {limit} for parameter MaxResults is invalid. Reason: MaxResults must be an "
            f"integer between 1 and {MAX_LIST_RESULTS}.",
        )
    return limit


def _url_page(request: Request, names: Sequence[str], member: str) -> dict[str, Any]:
    """A page of queue URLs: the whole list (up to 1000) without MaxResults, else MaxResults of
    them and a NextToken while more remain (SQS API Reference, ListQueues)."""
    params = request.params
    limit = _max_results(params)
    token = params.get("NextToken")
    if limit is None and token is None:
        names = names[:MAX_LIST_RESULTS]
    shown, next_token = page(names, token, limit, _bad_token)
    result: dict[str, Any] = {}
    if shown:
        result[member] = [wire_queue_url(request, name) for name in shown]
    if next_token is not None:
        result["NextToken"] = next_token
    return result


@operation("ListQueues")
def list_queues(broker: Broker, request: Request) -> Mapping[str, Any]:
    prefix = validation.text(request.params.get("QueueNamePrefix"), "QueueNamePrefix", SQS, required=False)
    names = [q.name for q in broker.queues() if prefix is None or q.name.startswith(prefix)]
    return _url_page(request, names, "QueueUrls")


@operation("ListDeadLetterSourceQueues")
def list_dead_letter_source_queues(broker: Broker, request: Request) -> Mapping[str, Any]:
    names = [q.name for q in _queue(broker, request).dead_letter_source_queues()]
    result = _url_page(request, names, "queueUrls")
    result.setdefault("queueUrls", [])  # a required member of the answer
    return result


@operation("GetQueueAttributes")
def get_queue_attributes(broker: Broker, request: Request) -> Mapping[str, Any]:
    names = request.params.get("AttributeNames")
    attributes = _queue(broker, request).get_attributes(names if names is not None else [])
    return {"Attributes": attributes} if attributes else {}


@operation("SetQueueAttributes")
def set_queue_attributes(broker: Broker, request: Request) -> Mapping[str, Any]:
    attributes = required(request.params, "Attributes", SQS)
    _queue(broker, request).set_attributes(attributes)
    return {}


@operation("PurgeQueue")
def purge_queue(broker: Broker, request: Request) -> Mapping[str, Any]:
    _queue(broker, request).purge()
    return {}


# --------------------------------------------------------------------------------------------
# Messages.


@operation("SendMessage")
def send_message(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    queue = _queue(broker, request)
    sent = queue.send(
        required(params, "MessageBody", SQS),
        message_attributes=params.get("MessageAttributes"),
        delay_seconds=params.get("DelaySeconds"),
        message_group_id=params.get("MessageGroupId"),
        message_deduplication_id=params.get("MessageDeduplicationId"),
        message_system_attributes=params.get("MessageSystemAttributes"),
    )
    result: dict[str, Any] = {"MD5OfMessageBody": sent.md5_of_message_body}
    if sent.md5_of_message_attributes is not None:
        result["MD5OfMessageAttributes"] = sent.md5_of_message_attributes
    if sent.md5_of_message_system_attributes is not None:
        result["MD5OfMessageSystemAttributes"] = sent.md5_of_message_system_attributes
    result["MessageId"] = sent.message_id
    if sent.sequence_number is not None:
        result["SequenceNumber"] = sent.sequence_number
    return result


@operation("SendMessageBatch")
def send_message_batch(broker: Broker, request: Request) -> Mapping[str, Any]:
    queue = _queue(broker, request)
    return queue.send_batch(required(request.params, "Entries", SQS))


def _message(message: Message) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    }
    if message.attributes:
        shown["Attributes"] = message.attributes
    if message.md5_of_message_attributes is not None:
        shown["MD5OfMessageAttributes"] = message.md5_of_message_attributes
    if message.message_attributes:
        shown["MessageAttributes"] = message.message_attributes
    return shown


def _receive(broker: Broker, request: Request) -> tuple[Queue, dict[str, Any]]:
    """The queue a ReceiveMessage names and the arguments of its receive."""
    params = request.params
    queue = _queue(broker, request)
    # AttributeNames is the older name of MessageSystemAttributeNames; SQS answers for both.
    names: list[str] = []
    for member in ("AttributeNames", "MessageSystemAttributeNames"):
        given = params.get(member)
        if given is not None:
            names.extend(validation.string_list(given, member, SQS))
    arguments = {
        "max_messages": params.get("MaxNumberOfMessages", 1),
        "wait_seconds": params.get("WaitTimeSeconds"),
        "visibility_timeout": params.get("VisibilityTimeout"),
        "attribute_names": list(dict.fromkeys(names)) or None,
        "message_attribute_names": params.get("MessageAttributeNames"),
        "receive_request_attempt_id": params.get("ReceiveRequestAttemptId"),
    }
    return queue, arguments


def _received(messages: Sequence[Message]) -> dict[str, Any]:
    # An empty receive answers without Messages, as SQS does.
    return {"Messages": [_message(m) for m in messages]} if messages else {}


@operation("ReceiveMessage")
def receive_message(broker: Broker, request: Request) -> Mapping[str, Any]:
    queue, arguments = _receive(broker, request)
    return _received(queue.receive(**arguments))


async def receive_message_async(broker: Broker, request: Request) -> Mapping[str, Any]:
    """ReceiveMessage for an event loop: a long poll (WaitTimeSeconds) awaits the store's change
    signal instead of holding a thread."""
    queue, arguments = _receive(broker, request)
    return _received(await queue.receive_async(**arguments))


operation.add_async("ReceiveMessage", receive_message_async)


@operation("DeleteMessage")
def delete_message(broker: Broker, request: Request) -> Mapping[str, Any]:
    _queue(broker, request).delete(required(request.params, "ReceiptHandle", SQS))
    return {}


@operation("DeleteMessageBatch")
def delete_message_batch(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _queue(broker, request).delete_batch(required(request.params, "Entries", SQS))


@operation("ChangeMessageVisibility")
def change_message_visibility(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    _queue(broker, request).change_visibility(
        required(params, "ReceiptHandle", SQS), required(params, "VisibilityTimeout", SQS)
    )
    return {}


@operation("ChangeMessageVisibilityBatch")
def change_message_visibility_batch(broker: Broker, request: Request) -> Mapping[str, Any]:
    return _queue(broker, request).change_visibility_batch(required(request.params, "Entries", SQS))


# --------------------------------------------------------------------------------------------
# Message move tasks (Amazon SQS Developer Guide, 'Learn how to configure a dead-letter queue
# redrive in Amazon SQS').


@operation("StartMessageMoveTask")
def start_message_move_task(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    handle = broker.start_message_move_task(
        required(params, "SourceArn", SQS),
        params.get("DestinationArn"),
        params.get("MaxNumberOfMessagesPerSecond"),
    )
    return {"TaskHandle": handle}


@operation("CancelMessageMoveTask")
def cancel_message_move_task(broker: Broker, request: Request) -> Mapping[str, Any]:
    moved = broker.cancel_message_move_task(required(request.params, "TaskHandle", SQS))
    return {"ApproximateNumberOfMessagesMoved": moved}


@operation("ListMessageMoveTasks")
def list_message_move_tasks(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    tasks = broker.list_message_move_tasks(required(params, "SourceArn", SQS), params.get("MaxResults", 1))
    return {"Results": tasks}


# --------------------------------------------------------------------------------------------
# Permissions: statements of the queue's Policy.

#: The actions AddPermission grants (SQS API Reference, AddPermission): each also grants its batch form.
PERMISSION_ACTIONS = frozenset(
    (
        "*",
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "ListQueueTags",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    )
)
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,80}")
_ACCOUNT = re.compile(r"\d{12}")


def _label(params: Mapping[str, Any]) -> str:
    label = validation.text(required(params, "Label", SQS), "Label", SQS)
    if not _LABEL.fullmatch(label):
        # SQS's text for a bad Label (as emulators record it).
        raise sqs_error(
            "InvalidParameterValue",
            f"Value {label} for parameter Label is invalid. "
            "Reason: Must be an alphanumeric String of 1 to 80 in length.",
        )
    return label


@operation("AddPermission")
def add_permission(broker: Broker, request: Request) -> Mapping[str, Any]:
    params = request.params
    queue = _queue(broker, request)
    label = _label(params)
    accounts = validation.string_list(required(params, "AWSAccountIds", SQS), "AWSAccountIds", SQS)
    actions = validation.string_list(required(params, "Actions", SQS), "Actions", SQS)
    if not accounts:
        raise SQS.missing("AWSAccountIds")
    if not actions:
        raise SQS.missing("Actions")
    for account in accounts:
        if not _ACCOUNT.fullmatch(account):
            raise sqs_error("InvalidParameterValue", f"Value {account} for parameter PrincipalId is invalid.")
    for action in actions:
        if action not in PERMISSION_ACTIONS:
            raise sqs_error(
                "InvalidParameterValue",
                f"Value SQS:{action} for parameter ActionName is invalid. Reason: Please refer to the "
                "appropriate WSDL for a list of valid actions.",
            )
    added = statement(label, accounts, [f"SQS:{action}" for action in actions], queue.arn)
    policy = with_statement(
        queue.get_attributes(["Policy"]).get("Policy"), f"{queue.arn}/SQSDefaultPolicy", added
    )
    if policy is None:
        raise sqs_error(
            "InvalidParameterValue", f"Value {label} for parameter Label is invalid. Reason: Already exists."
        )
    queue.set_attributes({"Policy": policy})
    return {}


@operation("RemovePermission")
def remove_permission(broker: Broker, request: Request) -> Mapping[str, Any]:
    queue = _queue(broker, request)
    label = _label(request.params)
    policy = without_statement(queue.get_attributes(["Policy"]).get("Policy"), label)
    if policy is None:
        raise sqs_error(
            "InvalidParameterValue",
            f"Value {label} for parameter Label is invalid. Reason: can't find label on existing policy.",
        )
    queue.set_attributes({"Policy": policy})
    return {}


# --------------------------------------------------------------------------------------------
# Tags (Amazon SQS Developer Guide, 'Tagging Amazon SQS queues').


def _check_tags(tags: Any, held: Mapping[str, str]) -> None:
    check_tags(
        checked_map(tags, "Tags", SQS),
        held,
        lambda reason: sqs_error("InvalidParameterValue", reason),
        lambda reason: sqs_error("InvalidParameterValue", reason),
    )


@operation("TagQueue")
def tag_queue(broker: Broker, request: Request) -> Mapping[str, Any]:
    queue = _queue(broker, request)
    tags = required(request.params, "Tags", SQS)
    _check_tags(tags, broker.tags(queue.arn))
    broker.tag_resource(queue.arn, tags)
    return {}


@operation("UntagQueue")
def untag_queue(broker: Broker, request: Request) -> Mapping[str, Any]:
    queue = _queue(broker, request)
    broker.untag_resource(
        queue.arn, validation.string_list(required(request.params, "TagKeys", SQS), "TagKeys", SQS)
    )
    return {}


@operation("ListQueueTags")
def list_queue_tags(broker: Broker, request: Request) -> Mapping[str, Any]:
    tags = broker.tags(_queue(broker, request).arn)
    return {"Tags": tags} if tags else {}
