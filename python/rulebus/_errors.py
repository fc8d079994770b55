"""The exceptions of rulebus. The Rust core raises these; they carry AWS's codes and messages."""

from __future__ import annotations


class RulebusError(Exception):
    """The root of every error rulebus raises on purpose."""


class NotFound(RulebusError, KeyError):
    """What a call names does not exist (any more): a rule of a ``RuleSet``, or the queue, bus,
    rule or stream a store method names. ``kind`` says which ("rule", "queue", "bus", "stream")
    and ``name`` its name. Services turn a store's into AWS's error (QueueDoesNotExist,
    ResourceNotFoundException...). Also a ``KeyError``: a missing entry is a missing key."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(kind, name)
        self.kind = kind
        self.name = name

    def __str__(self) -> str:  # KeyError's would quote the args tuple
        return f"no {self.kind} named {self.name!r}"


class InvalidPatternError(RulebusError, ValueError):
    """An EventBridge event pattern that AWS would refuse (InvalidEventPatternException).

    ``str(error)`` is AWS's whole message ("Event pattern is not valid. Reason: ...") and
    ``error.reason`` the reason alone, as event-ruler words it.
    """

    code = "InvalidEventPatternException"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class InvalidFilterPolicyError(InvalidPatternError):
    """An SNS filter policy (or scope) that SNS would refuse (InvalidParameter)."""

    code = "InvalidParameter"


class InvalidEventError(RulebusError, ValueError):
    """An event that cannot be matched: not JSON, not an object, or (for ``test_event_pattern``)
    without the envelope fields AWS requires ("Parameter Event is not valid.")."""

    code = "ValidationException"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason if reason is not None else message


class AwsError(RulebusError):
    """An error an AWS API would return: its error code (``QueueDoesNotExist``,
    ``InvalidParameterValue``...), its message, and whether the sender is at fault.

    ``code`` is the name the service's current model gives the error (for SQS the modeled shape,
    what boto3's ``client.exceptions`` are named after and what a JSON ``__type`` carries);
    ``query_code`` the legacy query-protocol code (for SQS the ``x-amzn-query-error`` header and
    the query ``<Code>``, e.g. ``AWS.SimpleQueueService.NonExistentQueue``), the same as ``code``
    unless told; ``status`` the HTTP status AWS answers with. :func:`sqs_error` fills both in
    from :data:`SQS_ERRORS`.
    """

    def __init__(
        self,
        code: str,
        message: str,
        sender_fault: bool = True,
        query_code: str | None = None,
        status: int = 400,
    ) -> None:
        if not message.isascii():
            # A value quoted from the request may hold a lone surrogate: shown escaped (\ud800),
            # since the message itself must be text that can be printed and sent.
            message = message.encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(message)
        self.code = code
        self.message = message
        self.sender_fault = sender_fault
        self.query_code = query_code if query_code is not None else code
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class ParameterTypeError(AwsError, TypeError):
    """A parameter of the wrong Python type (None where a list is required, an int where a str
    is): an :class:`AwsError` with the service's validation code and message, and a ``TypeError``
    too, since a wrong type is also a programming error (see :mod:`rulebus.validation`)."""


#: SQS's errors: modeled shape name (``AwsError.code``) -> (legacy query code, HTTP status), from
#: the SQS API Reference's errors and botocore's SQS model (awsQueryError). Unmodeled errors
#: are keyed by their legacy code.
SQS_ERRORS: dict[str, tuple[str, int]] = {
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "OverLimit": ("OverLimit", 403),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 400),
    "InvalidAttributeName": ("InvalidAttributeName", 400),
    "InvalidAttributeValue": ("InvalidAttributeValue", 400),
    "InvalidMessageContents": ("InvalidMessageContents", 400),
    "InvalidParameterValue": ("InvalidParameterValue", 400),
    "MissingParameter": ("MissingParameter", 400),
    "ResourceNotFoundException": ("ResourceNotFoundException", 404),
}


def sqs_error(code: str, message: str, sender_fault: bool = True) -> AwsError:
    """An SQS error by its modeled name, with the legacy query code and HTTP status of
    :data:`SQS_ERRORS` (a code missing there keeps itself as query code, and 400)."""
    query_code, status = SQS_ERRORS.get(code, (code, 400))
    return AwsError(code, message, sender_fault, query_code, status)


def constraint_error(value: object, where: str, constraint: str) -> AwsError:
    """The request-model failure AWS's JSON services answer with when a parameter breaks its
    shape: ValidationException "1 validation error detected: Value '<v>' at '<where>' failed to
    satisfy constraint: <constraint>" (EventBridge API Reference, 'Common Errors')."""
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{where}' "
        f"failed to satisfy constraint: {constraint}",
    )


class StoreError(RulebusError):
    """The store's file failed: ``str(error)`` says what happened and what to do, ``path`` is the
    file and ``sqlite_error`` SQLite's name for the failure (``"SQLITE_BUSY"``...; ``None`` when
    SQLite gave none). The SQLite error itself is the ``__cause__``."""

    def __init__(self, message: str, path: str = "", sqlite_error: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.sqlite_error = sqlite_error


class StoreReadOnlyError(StoreError):
    """The file (or its directory, or its ``-wal``/``-shm`` companions) cannot be written."""


class StoreLockedError(StoreError):
    """Another connection or process held the file's write lock for longer than the store's busy
    timeout."""


class StoreCorruptError(StoreError):
    """The file is not an SQLite database, or its contents are damaged (malformed)."""


class StoreRowCorruptError(StoreCorruptError):
    """One resource's row in the file cannot be decoded (damaged, or written by another program):
    that resource is unusable until it is restored or deleted; every other one works. ``table``
    is the table, ``resource`` what the row is (``"queue 'orders'"``)."""

    def __init__(self, message: str, path: str, table: str, resource: str) -> None:
        super().__init__(message, path)
        self.table = table
        self.resource = resource


class StoreFullError(StoreError):
    """The disk, or the store's size limit, is full: the change was not made."""


class StoreUnavailableError(StoreError):
    """The file cannot be opened or read: its directory is missing, it is not accessible, or the
    operating system reported an I/O error."""


class StoreVersionError(StoreError):
    """The file was written by a newer rulebus, whose schema this version does not know: it is
    left as it is (not read, not changed). ``schema`` is the file's schema version, ``supported``
    the newest this version reads."""

    def __init__(self, message: str, path: str = "", schema: int = 0, supported: int = 0) -> None:
        super().__init__(message, path)
        self.schema = schema
        self.supported = supported


class StoreClosedError(StoreError, RuntimeError):
    """The store was closed (``Broker.close()``); it is unusable afterwards."""
