"""SNS fan-out: one topic, two SQS queues; one gets every order, the other only big ones."""

from __future__ import annotations

import json
from typing import Any

import boto3

sns = boto3.client("sns")
sqs = boto3.client("sqs")


def subscribe_queue(topic_arn: str, queue_name: str, filter_policy: dict[str, Any] | None = None) -> str:
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    # Let the topic send to the queue.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    attributes = {"RawMessageDelivery": "true"}
    if filter_policy:
        attributes["FilterPolicy"] = json.dumps(filter_policy)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes)
    return queue_url


def drain(queue_url: str) -> list[str]:
    bodies = []
    while True:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = response.get("Messages", [])
        if not messages:
            return sorted(bodies)
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def main() -> None:
    topic_arn = sns.create_topic(Name="orders")["TopicArn"]
    all_orders = subscribe_queue(topic_arn, "all-orders")
    big_orders = subscribe_queue(topic_arn, "big-orders", {"amount": [{"numeric": [">=", 100]}]})
    for order, amount in [("o-1", 20), ("o-2", 150), ("o-3", 99)]:
        sns.publish(
            TopicArn=topic_arn,
            Message=json.dumps({"order": order}),
            MessageAttributes={"amount": {"DataType": "Number", "StringValue": str(amount)}},
        )
    print("all-orders:", [json.loads(body)["order"] for body in drain(all_orders)])
    print("big-orders:", [json.loads(body)["order"] for body in drain(big_orders)])


if __name__ == "__main__":
    main()
