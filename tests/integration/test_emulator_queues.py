"""The embedded stack's SQS answers attribute questions and receives exactly as moto does, only without walking the
whole queue once per message received: the same attributes, the same refusals, and a message past the queue's
retention period still never handed out."""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def sqs(stack):
    return boto3.client("sqs", endpoint_url=stack.endpoint, region_name="us-east-1")


@pytest.fixture
def queue(sqs):
    url = sqs.create_queue(QueueName=f"emu-{uuid.uuid4().hex[:8]}",
                           Attributes={"MessageRetentionPeriod": "60", "VisibilityTimeout": "30"})["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def test_some_attributes_are_what_all_of_them_say(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(10)])
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=60)
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=3)  # three in flight
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
             "ApproximateNumberOfMessagesDelayed", "MessageRetentionPeriod", "VisibilityTimeout", "QueueArn"]

    some = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=names)["Attributes"]
    everything = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]

    assert some == {name: everything[name] for name in names}
    assert (some["ApproximateNumberOfMessages"], some["ApproximateNumberOfMessagesNotVisible"],
            some["ApproximateNumberOfMessagesDelayed"], some["MessageRetentionPeriod"]) == ("7", "3", "1", "60")


def test_an_unknown_attribute_is_refused_as_before(sqs, queue):
    with pytest.raises(ClientError) as refused:
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "Colour"])
    assert refused.value.response["Error"]["Code"] in ("InvalidAttributeName", "InvalidParameterValue")


def test_a_message_past_the_retention_period_is_not_handed_out(sqs, queue):
    from moto.sqs.models import sqs_backends

    sqs.send_message(QueueUrl=queue, MessageBody="old")
    sqs.send_message(QueueUrl=queue, MessageBody="new")
    name = queue.rsplit("/", 1)[-1]
    backend = next(b for regions in sqs_backends.values() for b in regions.values() if name in b.queues)
    old = next(m for m in backend.queues[name]._messages if m.body == "old")
    old.sent_timestamp -= 61_000  # sent 61 s ago: past the queue's 60 s

    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])

    assert "old" not in [m["Body"] for m in got]
    again = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in got + again] == ["new"]  # the check refuses the expired one, not the queue
