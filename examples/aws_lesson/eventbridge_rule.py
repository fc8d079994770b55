"""EventBridge: a rule on the default bus sends matching events to an SQS queue."""

import json

import boto3

events = boto3.client("events")
sqs = boto3.client("sqs")


def main() -> None:
    queue_url = sqs.create_queue(QueueName="shipping")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="paid-orders",
        EventPattern=json.dumps({"source": ["com.example.shop"], "detail-type": ["Order Paid"]}),
        State="ENABLED",
    )
    events.put_targets(Rule="paid-orders", Targets=[{"Id": "shipping-queue", "Arn": queue_arn}])
    response = events.put_events(
        Entries=[
            {
                "Source": "com.example.shop",
                "DetailType": "Order Paid",
                "Detail": json.dumps({"orderId": "o-1", "total": 42}),
            },
            {
                "Source": "com.example.shop",
                "DetailType": "Order Cancelled",
                "Detail": json.dumps({"orderId": "o-2"}),
            },
        ]
    )
    print("failed entries:", response["FailedEntryCount"])
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=5)["Messages"]
    for message in messages:
        event = json.loads(message["Body"])
        print("shipping got:", event["detail-type"], event["detail"]["orderId"])
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


if __name__ == "__main__":
    main()
