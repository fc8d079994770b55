"""SQS's errors for a queue that is not there, or not there again yet."""

from __future__ import annotations

from rulebus._errors import AwsError, sqs_error

__all__ = ["QUEUE_DELETED_RECENTLY", "QUEUE_DOES_NOT_EXIST", "queue_deleted_recently", "queue_does_not_exist"]

#: CreateQueue too soon after DeleteQueue of that name (legacy code
#: AWS.SimpleQueueService.QueueDeletedRecently).
QUEUE_DELETED_RECENTLY = "QueueDeletedRecently"

#: A missing queue's modeled error (legacy query code AWS.SimpleQueueService.NonExistentQueue).
QUEUE_DOES_NOT_EXIST = "QueueDoesNotExist"


def queue_does_not_exist() -> AwsError:
    """SQS's error for any operation on a queue that is not there (its JSON-protocol text)."""
    return sqs_error(QUEUE_DOES_NOT_EXIST, "The specified queue does not exist.")


def queue_deleted_recently() -> AwsError:
    """SQS's error for re-creating a queue less than 60 s after deleting it."""
    return sqs_error(
        QUEUE_DELETED_RECENTLY,
        "You must wait 60 seconds after deleting a queue before you can create another queue "
        "with the same name.",
    )
