"""Nothing is lost between "saved" and "told": an outbox event the dispatcher cannot send, however often the stream
retries it, lands in the dead-letter queue as Lambda's on-failure record; once the cause is fixed the replay command
delivers it — exactly once, however often it runs, even for events the consumers already got.

On the embedded stack: the dispatcher's SQS sender refuses one tenant's ``ticket.acknowledged`` (what a broken
queue policy or an SQS outage does), the real stream poller gives up on it as the mapping says (retries lowered for
speed), and ``replay_dispatch_failures`` — the function AWS runs — takes it from the queue."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamLambdaOnFailureDestinationModel

from chalicelib import bootstrap
from chalicelib.events.replay import DispatchFailureReplay
from chalicelib.events.repository import OutboxRepository
from devstack.emulator import LambdaContext
from tests.e2e.test_notifications import daytime_zone, wait_for
from tests.e2e.test_ticket_lifecycle import act, estate  # noqa: F401 - the fixture
from tests.e2e.test_webhooks import file_ticket, receiver, register  # noqa: F401 - the fixture
from tests.helpers import ApiClient

POISONED = "ticket.acknowledged"


def refuse(tenant_id: str, event_types: tuple[str, ...] = (POISONED, "sla.met")
           ) -> Callable[[], Callable[..., list[str]]]:
    """``bootstrap.sqs_send_batch`` whose sender refuses one tenant's events of these types, every time (the
    acknowledgement and the first-response clock's ``sla.met``, which share one event item)."""
    real = bootstrap.sqs_send_batch()

    def send_batch(url: str, entries: list[dict[str, Any]]) -> list[str]:
        def poisoned(entry: dict[str, Any]) -> bool:
            message = json.loads(entry["MessageBody"])
            return message["tenant_id"] == tenant_id and message["type"] in event_types
        fine = [e for e in entries if not poisoned(e)]
        return (real(url, fine) if fine else []) + [e["Id"] for e in entries if poisoned(e)]
    return lambda: send_batch


def dead_letters(stack, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    """Wait for ``count`` dead letters and read them without taking them (they become visible again at once)."""
    sqs, url = boto3.client("sqs"), stack.resources.dispatch_failures_url
    deadline = time.time() + timeout
    while time.time() < deadline:
        visible = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"])
        if visible >= count:
            break
        time.sleep(0.1)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def stream_events(stack, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The event items of a dead letter's sequence range, straight from the stream."""
    streams = boto3.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(StreamArn=info["streamArn"], ShardId=info["shardId"],
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    end = int(info["endSequenceNumber"])
    return [r["dynamodb"]["NewImage"] for r in records if int(r["dynamodb"]["SequenceNumber"]) <= end
            and r["dynamodb"]["NewImage"].get("entity", {}).get("S") == "event"]


def replay() -> dict[str, int]:
    """What an operator runs: the deployed function's entry point (``make replay-events`` locally)."""
    import app  # after the stack has set the environment

    return app.replay_dispatch_failures({}, LambdaContext("replay_dispatch_failures"))


class Told:
    """What the resident and the integrator got about one ticket: SMS, inbox entries, webhook deliveries."""

    def __init__(self, api: ApiClient, stack, estate, receiver, ticket: dict[str, Any]) -> None:  # noqa: F811
        self.api, self.stack, self.estate, self.receiver, self.ticket = api, stack, estate, receiver, ticket
        self.phone = estate["resident"]["phone"]

    def settle(self) -> None:
        for queue in ("notifications", "webhooks"):
            self.stack.settle(queue)

    def sms(self) -> list[str]:
        return [m["body"] for m in self.api.get("/v1/dev/messages", params={"to": self.phone}).json()["items"]
                if self.ticket["number"] in m["body"]]

    def inbox(self, event_type: str = POISONED) -> list[dict[str, Any]]:
        page = self.api.get("/v1/me/notifications", token=self.estate["resident_token"]).json()
        return [n for n in page["items"] if n["event_type"] == event_type and n["ticket_id"] == self.ticket["id"]]

    def webhooks(self, event_type: str = POISONED) -> list[str]:
        got = [(r.headers["webhook-id"], json.loads(r.body)) for r in self.receiver.requests]
        return [i for i, p in got if p["type"] == event_type and p["data"]["ticket_id"] == self.ticket["id"]]

    def exactly_once(self) -> None:
        self.settle()
        assert len(self.sms()) == 1, self.sms()
        assert len(self.inbox()) == 1
        assert len(self.webhooks()) == 1 and len(self.webhooks("ticket.created")) == 1
        # the first-response clock's sla.met shares the acknowledgement's event item: replayed with it, sent once
        assert len(self.webhooks("sla.met")) == 1


@pytest.fixture
def poisoned(api: ApiClient, stack, tenant, estate, receiver, monkeypatch):  # noqa: F811
    """A ticket whose acknowledgement the dispatcher cannot send: given up on, in the dead-letter queue."""
    assert api.patch("/v1/tenant", token=tenant.token, json={"timezone": daytime_zone()}).status_code == 200
    register(api, tenant, receiver.base_url + "/ok", ["ticket.created", POISONED, "sla.met"])
    ticket = file_ticket(api, estate)
    told = Told(api, stack, estate, receiver, ticket)
    assert len(receiver.wait_count(lambda r: json.loads(r.body)["type"] == "ticket.created", 1)) == 1
    monkeypatch.setattr(stack.stream_poller, "max_retries", 1)
    monkeypatch.setattr(stack.stream_poller, "retry_delay", 0.05)
    monkeypatch.setattr(bootstrap, "sqs_send_batch", refuse(tenant.id))
    act(api, estate["agent_token"], ticket["id"], "acknowledge")
    letters = dead_letters(stack, 1)
    told.settle()
    assert told.sms() == [] and told.inbox() == [] and told.webhooks() == []  # nobody was told
    assert told.webhooks("sla.met") == []  # of either event the acknowledgement's item holds
    monkeypatch.undo()  # the cause is fixed
    return told, letters


def test_a_stream_record_that_fails_every_retry_lands_in_the_dlq_and_replay_delivers_it_exactly_once(stack, poisoned):
    told, letters = poisoned
    assert len(letters) == 1
    letter = letters[0]
    DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(letter)  # Lambda's on-failure record
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = letter["DDBStreamBatchInfo"]
    assert info["streamArn"] == stack.resources.stream_arn
    events = stream_events(stack, info)  # where it points: the acknowledgement, from its first record on
    assert events[0]["type"]["S"] == POISONED and events[0]["subject_id"]["S"] == told.ticket["id"]
    assert info["batchSize"] == len(events)

    first = replay()
    assert (first["replayed"], first["failing"], first["missing"]) == (1, 0, 0), first
    assert wait_for(told.api, told.phone, 1) and told.receiver.wait_count(
        lambda r: json.loads(r.body)["type"] == POISONED, 1)
    told.exactly_once()
    assert "已受理" in told.sms()[0]

    assert replay()["replayed"] == 0  # nothing left: a second run delivers nothing
    told.exactly_once()

    # The same dead letter again (Lambda's delivery to it is at least once): dispatched again, told nobody twice.
    boto3.client("sqs").send_message(QueueUrl=stack.resources.dispatch_failures_url, MessageBody=json.dumps(letter))
    assert replay()["replayed"] == 1
    told.exactly_once()
    assert dead_letters(stack, 0, timeout=0) == []


def test_a_dead_letter_past_the_streams_retention_is_replayed_from_the_outbox_exactly_once(stack, poisoned):
    told, _ = poisoned

    class Trimmed:
        def read(self, batch: Any) -> None:
            return None  # 24 h later: the stream no longer holds the batch

    real = bootstrap.dispatch_failure_replay()
    report = DispatchFailureReplay(real.letters, Trimmed(), OutboxRepository(), real.dispatch,
                                   window=(timedelta(seconds=30), timedelta(seconds=5))).run()
    assert (report.replayed, report.from_outbox, report.failing) == (1, 1, 0), report
    assert told.receiver.wait_count(lambda r: json.loads(r.body)["type"] == POISONED, 1)
    # The window also took in the ticket's creation, which everyone had already got: not told twice.
    told.exactly_once()
    assert dead_letters(stack, 0, timeout=0) == []
