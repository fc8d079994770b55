"""SQS FIFO: messages of one group arrive in order; duplicates are dropped."""

import boto3

sqs = boto3.client("sqs")


def main() -> None:
    queue_url = sqs.create_queue(
        QueueName="payments.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for account, operation in [
        ("alice", "open"),
        ("bob", "open"),
        ("alice", "deposit 10"),
        ("alice", "withdraw 5"),
    ]:
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"{account}: {operation}", MessageGroupId=account)
    # A retry of the same body within five minutes is a duplicate (content-based deduplication).
    sqs.send_message(QueueUrl=queue_url, MessageBody="bob: open", MessageGroupId="bob")
    # An explicit deduplication id makes an equal body a new message.
    sqs.send_message(
        QueueUrl=queue_url, MessageBody="bob: open", MessageGroupId="bob", MessageDeduplicationId="bob-reopen"
    )

    by_group = {}
    while True:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["MessageGroupId"],
        )
        messages = response.get("Messages", [])
        if not messages:
            break
        for message in messages:
            by_group.setdefault(message["Attributes"]["MessageGroupId"], []).append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    for group in sorted(by_group):
        print(group, "->", by_group[group])


if __name__ == "__main__":
    main()
