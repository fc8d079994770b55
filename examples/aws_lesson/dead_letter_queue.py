"""SQS dead-letter queue: a message that fails three times is moved aside."""

import json

import boto3

sqs = boto3.client("sqs")


def main() -> None:
    dlq_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="orders",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="poison pill")

    for attempt in range(1, 5):
        response = sqs.receive_message(
            QueueUrl=queue_url, WaitTimeSeconds=1, MessageSystemAttributeNames=["ApproximateReceiveCount"]
        )
        messages = response.get("Messages", [])
        if not messages:
            print(f"attempt {attempt}: nothing left in orders")
            continue
        message = messages[0]
        count = message["Attributes"]["ApproximateReceiveCount"]
        print(f"attempt {attempt}: processing failed (receive count {count})")
        # Give the message back at once instead of waiting out the visibility timeout.
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )

    dead = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1)["Messages"]
    print("dead-letter queue holds:", [message["Body"] for message in dead])
    print(
        "its source queues:", sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"] == [queue_url]
    )


if __name__ == "__main__":
    main()
