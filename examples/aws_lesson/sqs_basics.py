"""SQS: a producer sends orders, a consumer long-polls for them, handles each and deletes it."""

from __future__ import annotations

import json

import boto3

sqs = boto3.client("sqs")


def produce(queue_url: str) -> None:
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"order": 1, "item": "book"}))
    entries = [
        {"Id": str(n), "MessageBody": json.dumps({"order": n, "item": item})}
        for n, item in [(2, "pen"), (3, "lamp"), (4, "mug")]
    ]
    response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    print(f"sent 1 + {len(response['Successful'])} messages")


def consume(queue_url: str, expected: int) -> list[int]:
    handled = []
    while len(handled) < expected:
        # Long polling: wait up to 20 seconds for messages instead of answering empty at once.
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=20)
        for message in response.get("Messages", []):
            order = json.loads(message["Body"])
            handled.append(order["order"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return sorted(handled)


def main() -> None:
    queue_url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    produce(queue_url)
    print("handled orders:", consume(queue_url, expected=4))
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    print("left in the queue:", attributes["Attributes"]["ApproximateNumberOfMessages"])


if __name__ == "__main__":
    main()
