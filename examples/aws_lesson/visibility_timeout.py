"""SQS visibility: a slow worker extends its lease; a crashed one gives the message back."""

import boto3

sqs = boto3.client("sqs")


def main() -> None:
    queue_url = sqs.create_queue(QueueName="reports", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="monthly report")
    sqs.send_message(QueueUrl=queue_url, MessageBody="weekly report")

    first = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    print("worker A took:", sorted(message["Body"] for message in first))
    # Still working: extend the lease of the monthly report to ten minutes.
    monthly = next(message for message in first if message["Body"] == "monthly report")
    weekly = next(message for message in first if message["Body"] == "weekly report")
    sqs.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=monthly["ReceiptHandle"], VisibilityTimeout=600
    )
    print("worker B sees:", len(sqs.receive_message(QueueUrl=queue_url).get("Messages", [])), "messages")

    # Worker A gives up on the weekly report: visible again at once, for worker B.
    sqs.change_message_visibility_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": "weekly", "ReceiptHandle": weekly["ReceiptHandle"], "VisibilityTimeout": 0}],
    )
    taken = sqs.receive_message(QueueUrl=queue_url, MessageSystemAttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ]
    for message in taken:
        print(
            "worker B took:",
            message["Body"],
            "receive count",
            message["Attributes"]["ApproximateReceiveCount"],
        )
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=monthly["ReceiptHandle"])
    counts = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    print(
        "visible:",
        counts["ApproximateNumberOfMessages"],
        "in flight:",
        counts["ApproximateNumberOfMessagesNotVisible"],
    )


if __name__ == "__main__":
    main()
