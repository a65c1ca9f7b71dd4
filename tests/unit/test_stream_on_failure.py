"""The event-source emulator does what Lambda does with a stream batch it cannot process: bisect it (no retry used),
retry the failing record, then send Lambda's on-failure record (``DDBStreamBatchInfo``) to the mapping's on-failure
queue and move on — never drop it silently. On fake stream and SQS clients: no I/O."""
from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamLambdaOnFailureDestinationModel

from devstack.emulator import StreamPoller, stream_mapping_options
from devstack.resources import event_source_settings, on_failure_queue, template

SHARD, ARN, T0 = "shardId-00000001-aaaa", "arn:aws:dynamodb:local:000000000000:table/t/stream/2026", 1_795_770_000.0


def record(n: int, created: float = T0) -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(100 + n), "ApproximateCreationDateTime": created,
                                                "NewImage": {"entity": {"S": "event"}, "n": {"N": str(n)}}}}


def number(r: dict[str, Any]) -> int:
    return int(r["dynamodb"]["NewImage"]["n"]["N"])


class Streams:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"StreamDescription": {"Shards": [{"ShardId": SHARD}]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str,  # noqa: N803
                           SequenceNumber: str | None = None) -> dict[str, str]:
        numbers = [r["dynamodb"]["SequenceNumber"] for r in self.records]
        position = 0 if ShardIteratorType == "TRIM_HORIZON" else numbers.index(SequenceNumber) + 1
        return {"ShardIterator": str(position)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        return {"Records": self.records[int(ShardIterator):int(ShardIterator) + Limit]}


class Sqs:
    def __init__(self, refuse: int = 0) -> None:
        self.sent: list[dict[str, Any]] = []
        self.refuse = refuse

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, str]:  # noqa: N803
        if self.refuse:
            self.refuse -= 1
            raise ConnectionError("queue unreachable")
        self.sent.append(json.loads(MessageBody))
        return {"MessageId": str(len(self.sent))}


class Session:
    def __init__(self, streams: Streams, sqs: Sqs) -> None:
        self.clients = {"dynamodbstreams": streams, "sqs": sqs}

    def client(self, name: str) -> Any:
        return self.clients[name]


class Handler:
    """Processes records in order; a poisoned one is reported (``ReportBatchItemFailures``) or crashes the batch."""

    def __init__(self, poisoned: set[int], *, crash: bool = False) -> None:
        self.poisoned, self.crash = poisoned, crash
        self.batches: list[list[int]] = []
        self.done: list[int] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        batch = event["Records"]
        self.batches.append([number(r) for r in batch])
        if self.crash and any(number(r) in self.poisoned for r in batch):
            raise RuntimeError("poisoned")
        for r in batch:
            if number(r) in self.poisoned:
                return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]}]}
            self.done.append(number(r))
        return {"batchItemFailures": []}


def run(records: list[dict[str, Any]], handler: Handler, sqs: Sqs | None = None, **options: Any) -> StreamPoller:
    sqs = sqs or Sqs()
    poller = StreamPoller(Session(Streams(records), sqs), ARN, handler, retry_delay=0, on_failure_url="dlq",
                          clock=lambda: T0 + 5, **options)
    for _ in range(200):
        poller.poll_once()
        if poller.idle_passes:
            break
    assert poller.idle_passes, "the poller never caught up"
    return poller


def only_failure(sqs: Sqs) -> dict[str, Any]:
    assert len(sqs.sent) == 1, sqs.sent
    DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(sqs.sent[0])  # Lambda's shape, per Powertools
    return sqs.sent[0]


def test_a_record_failing_every_retry_goes_to_the_on_failure_queue_in_lambdas_format_and_the_shard_moves_on():
    sqs, handler = Sqs(), Handler({2})
    poller = run([record(n) for n in range(6)], handler, sqs, batch_size=4, max_retries=2, bisect=True)
    assert handler.done == [0, 1, 4, 5]  # in order; what followed the given-up batch is no longer held up
    failure = only_failure(sqs)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    # Bisected at the reported record: [0, 1] are done, the batch from 2 on is retried, then given up whole.
    assert failure["DDBStreamBatchInfo"] == {
        "shardId": SHARD, "startSequenceNumber": "102", "endSequenceNumber": "103", "batchSize": 2, "streamArn": ARN,
        "approximateArrivalOfFirstRecord": "2026-11-27T09:00:00Z",
        "approximateArrivalOfLastRecord": "2026-11-27T09:00:00Z"}
    assert handler.batches[:3] == [[0, 1, 2, 3], [2, 3], [2, 3]]  # the first try and two retries
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert "functionError" not in failure["responseContext"] and poller.discarded == 1


def test_without_bisection_the_batch_from_the_failing_record_on_is_what_is_given_up():
    sqs, handler = Sqs(), Handler({1})
    run([record(n) for n in range(4)], handler, sqs, max_retries=1, bisect=False)
    assert handler.done == [0]
    info = only_failure(sqs)["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("101", "103", 3)
    assert handler.batches == [[0, 1, 2, 3], [1, 2, 3]]  # one try, one retry


def test_a_crashing_handler_is_bisected_down_to_the_poisoned_record():
    sqs, handler = Sqs(), Handler({5}, crash=True)
    run([record(n) for n in range(8)], handler, sqs, max_retries=1, bisect=True)
    assert handler.done == [0, 1, 2, 3, 4, 6, 7]
    failure = only_failure(sqs)
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == failure["DDBStreamBatchInfo"][
        "endSequenceNumber"] == "105"
    assert failure["responseContext"]["functionError"] == "Unhandled"
    # [0..7] → [0..3] ✓ → [4..7] → [4, 5] → [4] ✓ → [5, 6, 7] → [5, 6] → [5] twice (no retry used until alone)
    assert handler.batches.count([5]) == 2 and failure["requestContext"]["approximateInvokeCount"] == 4


def test_records_older_than_the_maximum_record_age_go_to_the_queue_without_an_invocation():
    sqs, handler = Sqs(), Handler(set())
    records = [record(0, created=T0 - 100), record(1, created=T0 - 90), record(2, created=T0)]
    run(records, handler, sqs, max_record_age_seconds=60)
    failure = only_failure(sqs)
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 2
    assert handler.batches == [[2]]


def test_a_batch_the_on_failure_queue_refuses_stays_at_the_head_of_the_shard_until_it_is_taken():
    sqs, handler = Sqs(refuse=2), Handler({0})
    run([record(n) for n in range(3)], handler, sqs, batch_size=1, max_retries=0, bisect=True)
    assert only_failure(sqs)["DDBStreamBatchInfo"]["startSequenceNumber"] == "100"
    assert handler.done == [1, 2]  # only once the failure was recorded did the shard move on


@pytest.mark.parametrize("setting", ["max_retries", "bisect", "max_record_age_seconds"])
def test_the_embedded_stack_takes_retries_bisection_age_and_destination_from_the_mapping(setting):
    mapping = event_source_settings("EventDispatcherStreamMapping")
    options = stream_mapping_options(mapping)
    assert options[setting] == mapping[{"max_retries": "MaximumRetryAttempts", "bisect": "BisectBatchOnFunctionError",
                                        "max_record_age_seconds": "MaximumRecordAgeInSeconds"}[setting]]
    assert on_failure_queue(template()["Resources"], "EventDispatcherStreamMapping") == "EventDispatchDeadLetterQueue"
