"""The replay of the dispatcher's dead letters on fakes: a letter is deleted only once every event it stands for was
dispatched again; what cannot be found, read or sent stays for the next run; the stream is read back by exact
sequence range, and the outbox window serves once the stream has trimmed the batch."""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib.events.replay import DeadLetter, DispatchFailureReplay, FailedBatch, StreamBatches

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/linli/stream/2026-11-27T00:00:00.000"


def letter(start: int, end: int, n: int = 1, **info: Any) -> DeadLetter:
    body = {"requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
            "DDBStreamBatchInfo": {"shardId": "shardId-1", "startSequenceNumber": str(start),
                                   "endSequenceNumber": str(end), "batchSize": end - start + 1, "streamArn": ARN,
                                   "approximateArrivalOfFirstRecord": "2026-11-27T09:00:00Z",
                                   "approximateArrivalOfLastRecord": "2026-11-27T09:00:01Z", **info}}
    return DeadLetter(f"m{n}", f"receipt-{n}", json.dumps(body))


def event_record(seq: int, event_id: str | None = None, *, entity: str = "event") -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(seq), "NewImage": {
        "entity": {"S": entity}, "event_id": {"S": event_id or f"evt_{seq}"}}}}


class Letters:
    def __init__(self, *letters: DeadLetter) -> None:
        self.queue, self.deleted = list(letters), []

    def receive(self, limit: int) -> list[DeadLetter]:
        taken, self.queue = self.queue[:limit], self.queue[limit:]  # received letters are hidden for the run
        return taken

    def delete(self, letter: DeadLetter) -> None:
        self.deleted.append(letter.message_id)


class Stream:
    def __init__(self, records: list[dict[str, Any]] | None) -> None:
        self.records = records

    def read(self, batch: FailedBatch) -> list[dict[str, Any]] | None:
        if self.records is None:
            return None
        return [r for r in self.records if int(batch.start) <= int(r["dynamodb"]["SequenceNumber"]) <= int(batch.end)]


class Outbox:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records, self.windows = records, []

    def records_between(self, start: str, end: str) -> list[dict[str, Any]]:
        self.windows.append((start, end))
        return self.records


class Dispatcher:
    def __init__(self, failing: set[str] = frozenset(), crash: bool = False) -> None:
        self.failing, self.crash, self.sent = failing, crash, []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.crash:
            raise RuntimeError("queue unreachable")
        records = event["Records"]
        self.sent.extend(r["dynamodb"]["NewImage"]["event_id"]["S"] for r in records)
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records
                                      if r["dynamodb"]["NewImage"]["event_id"]["S"] in self.failing]}


def test_a_dead_letter_is_read_back_from_the_stream_by_its_range_dispatched_and_deleted():
    letters, dispatch = Letters(letter(11, 12)), Dispatcher()
    stream = Stream([event_record(10), event_record(11), event_record(12, entity="ticket"), event_record(12),
                     event_record(13)])
    report = DispatchFailureReplay(letters, stream, Outbox([]), dispatch).run()
    assert dispatch.sent == ["evt_11", "evt_12"]  # the range only, event items only (the infra filter)
    assert letters.deleted == ["m1"]
    assert report.as_dict() == {"replayed": 1, "events": 2, "from_outbox": 0, "failing": 0, "missing": 0,
                                "unreadable": 0}


def test_a_dead_letter_whose_events_still_fail_to_dispatch_is_kept_for_the_next_run():
    letters, dispatch = Letters(letter(11, 11, 1), letter(12, 12, 2)), Dispatcher(failing={"evt_11"})
    report = DispatchFailureReplay(letters, Stream([event_record(11), event_record(12)]), Outbox([]), dispatch).run()
    assert letters.deleted == ["m2"] and report.failing == 1 and report.replayed == 1


def test_a_crashing_dispatch_keeps_its_letter_and_the_run_goes_on():
    letters = Letters(letter(11, 11, 1), letter(12, 12, 2))
    report = DispatchFailureReplay(letters, Stream([event_record(11), event_record(12)]), Outbox([]),
                                   Dispatcher(crash=True)).run()
    assert letters.deleted == [] and report.failing == 2


def test_a_dead_letter_the_stream_no_longer_holds_is_replayed_from_the_outbox_window():
    letters, dispatch = Letters(letter(11, 11)), Dispatcher()
    outbox = Outbox([event_record(1, "evt_neighbour"), event_record(2, "evt_lost")])
    report = DispatchFailureReplay(letters, Stream(None), outbox, dispatch).run()
    # Arrived 09:00:00–09:00:01; occurred up to 5 minutes before (its use case's clock), read a minute wide after.
    assert outbox.windows == [("2026-11-27T08:55:00.000Z", "2026-11-27T09:01:01.000Z")]
    assert dispatch.sent == ["evt_neighbour", "evt_lost"]  # wide on purpose: consumers dedupe by event id
    assert letters.deleted == ["m1"] and report.from_outbox == 1 and report.replayed == 1


def test_the_outbox_window_can_be_narrowed():
    outbox = Outbox([event_record(2)])
    DispatchFailureReplay(Letters(letter(11, 11)), Stream(None), outbox, Dispatcher(),
                          window=(timedelta(seconds=2), timedelta(seconds=2))).run()
    assert outbox.windows == [("2026-11-27T08:59:58.000Z", "2026-11-27T09:00:03.000Z")]


def test_a_dead_letter_nobody_can_find_or_read_is_kept_and_reported():
    unreadable = DeadLetter("m9", "r9", "{not json")
    letters = Letters(letter(11, 11), unreadable)
    report = DispatchFailureReplay(letters, Stream(None), Outbox([]), Dispatcher()).run()
    assert letters.deleted == [] and report.missing == 1 and report.unreadable == 1


def test_the_replay_stops_taking_letters_when_its_invocation_runs_short_of_time():
    letters = Letters(*(letter(n, n, n) for n in range(30)))
    clock = iter([60_000, 60_000, 5_000])
    report = DispatchFailureReplay(letters, Stream([event_record(n) for n in range(30)]), Outbox([]),
                                   Dispatcher()).run(time_left_ms=lambda: next(clock))
    assert report.replayed == 20 and len(letters.queue) == 10


class StreamsClient:
    """A DynamoDB Streams client over one shard (sequence numbers 100…), trimmed below ``trimmed_below``."""

    class exceptions:  # noqa: N801 - boto3's client.exceptions
        class ClientError(Exception):
            pass

        class TrimmedDataAccessException(ClientError):
            pass

    def __init__(self, count: int, *, trimmed_below: int = 0, page: int = 3) -> None:
        self.records = [event_record(100 + n) for n in range(count)]
        self.trimmed_below, self.page = trimmed_below, page

    def get_shard_iterator(self, **kwargs: str) -> dict[str, str]:
        assert kwargs["ShardIteratorType"] == "AT_SEQUENCE_NUMBER"
        if int(kwargs["SequenceNumber"]) < self.trimmed_below:
            raise self.exceptions.TrimmedDataAccessException()
        return {"ShardIterator": str(int(kwargs["SequenceNumber"]) - 100)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803 - boto3's names
        at = int(ShardIterator)
        return {"Records": self.records[at:at + self.page], "NextShardIterator": str(at + self.page)}


def test_the_stream_is_read_back_by_exact_sequence_range_across_pages():
    batch = FailedBatch.parse(letter(101, 107).body)
    assert [r["dynamodb"]["SequenceNumber"] for r in StreamBatches(StreamsClient(20)).read(batch)] == [
        str(n) for n in range(101, 108)]


def test_a_range_the_stream_trimmed_or_no_longer_reaches_reads_as_gone_not_as_part_of_it():
    batch = FailedBatch.parse(letter(101, 107).body)
    assert StreamBatches(StreamsClient(20, trimmed_below=105)).read(batch) is None
    assert StreamBatches(StreamsClient(5)).read(batch) is None  # ends at 104: never a partial batch
    assert StreamBatches(StreamsClient(20), max_pages=1).read(batch) is None
