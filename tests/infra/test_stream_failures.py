"""Nothing the outbox relay gives up on is lost, in the packaged template: the stream mapping sends failed batches to
an encrypted dead-letter queue that keeps them 14 days and raises an alarm; only the dispatcher may write to it and
only the replay function may take from it, reading back no more than the stream and the event items' attributes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.events.repository import EVENT_ATTRIBUTES
from infra.package import build

pytestmark = pytest.mark.slow

DLQ = "EventDispatchDeadLetterQueue"
DLQ_ARN = {"Fn::GetAtt": [DLQ, "Arn"]}
STREAM_RETENTION_SECONDS = 24 * 3600


@pytest.fixture(scope="module")
def resources(tmp_path_factory) -> dict:
    path: Path = build(tmp_path_factory.mktemp("package") / "out", stage="prod", with_deps=False)
    return json.loads(path.read_text())["Resources"]


def statements(resources: dict) -> list[tuple[str, dict]]:
    """(role, statement) for every statement of every IAM policy of the template."""
    return [(role["Ref"], statement) for resource in resources.values() if resource["Type"] == "AWS::IAM::Policy"
            for role in resource["Properties"]["Roles"]
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]]


def listed(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_the_stream_mapping_sends_what_it_gives_up_on_to_the_dead_letter_queue(resources):
    mapping = resources["EventDispatcherStreamMapping"]["Properties"]
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": DLQ_ARN}}
    assert mapping["BisectBatchOnFunctionError"] is True and mapping["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"]
    assert 1 <= mapping["MaximumRetryAttempts"] <= 20  # a poisoned record holds its shard up only briefly
    # Reported while the stream still holds the batch (24 h), with most of the day left for the replay to read it.
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= STREAM_RETENTION_SECONDS // 2


def test_the_dead_letter_queue_is_encrypted_keeps_14_days_and_has_an_alarm(resources):
    queue = resources[DLQ]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 86400
    assert "RedrivePolicy" not in queue["Properties"]  # a dead letter stays until replayed
    # A letter the replay is working on stays hidden for longer than the replay function can run.
    assert queue["Properties"]["VisibilityTimeout"] > resources["ReplayDispatchFailures"]["Properties"]["Timeout"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
              and r["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ, "QueueName"]}}]]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0)
    assert alarm["Period"] <= 300 and alarm["TreatMissingData"] == "notBreaching"


def test_only_the_dispatcher_writes_dead_letters_and_only_the_replay_takes_them(resources):
    touching = [(role, s) for role, s in statements(resources) if DLQ_ARN in listed(s["Resource"])]
    writers = {role for role, s in touching if "sqs:SendMessage" in s["Action"]}
    readers = {role for role, s in touching if {"sqs:ReceiveMessage", "sqs:DeleteMessage"} & set(s["Action"])}
    assert writers == {"EventDispatcherRole"} and readers == {"ReplayDispatchFailuresRole"}
    for role, statement in touching:
        assert listed(statement["Resource"]) == [DLQ_ARN], statement  # statements about the DLQ are about it alone
        if role == "EventDispatcherRole":
            assert statement["Action"] == ["sqs:SendMessage"]
        else:
            assert set(statement["Action"]) <= {"sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}


def test_the_replay_function_reads_the_stream_and_event_attributes_only_and_republishes_to_the_event_queues(resources):
    function = resources["ReplayDispatchFailures"]["Properties"]
    assert function["Handler"] == "app.replay_dispatch_failures"
    assert function["Role"] == {"Fn::GetAtt": ["ReplayDispatchFailuresRole", "Arn"]}
    granted = [s for role, s in statements(resources) if role == "ReplayDispatchFailuresRole"]
    actions = {a for s in granted for a in s["Action"]}
    assert actions == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                       "sqs:GetQueueAttributes", "dynamodb:DescribeStream", "dynamodb:GetShardIterator",
                       "dynamodb:GetRecords", "dynamodb:Scan", "sqs:SendMessage"}
    stream = next(s for s in granted if "dynamodb:GetRecords" in s["Action"])
    assert stream["Resource"] == {"Fn::GetAtt": ["LinliTable", "StreamArn"]}
    scan = next(s for s in granted if "dynamodb:Scan" in s["Action"])
    assert scan["Action"] == ["dynamodb:Scan"] and scan["Resource"] == {"Fn::GetAtt": ["LinliTable", "Arn"]}
    assert scan["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"] == list(EVENT_ATTRIBUTES)
    assert scan["Condition"]["StringEqualsIfExists"]["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"
    send = next(s for s in granted if "sqs:SendMessage" in s["Action"])
    assert send["Action"] == ["sqs:SendMessage"] and sorted(r["Fn::GetAtt"][0] for r in send["Resource"]) == [
        "ImportsQueue", "NotificationsQueue", "ReportsQueue", "SlaQueue",
        "WebhooksQueue"]  # every queue events route to
    assert not any("ReplayDispatchFailuresRole" == r["Ref"] for resource in resources.values()
                   if resource["Type"] == "AWS::IAM::Policy" and resource["Properties"]["PolicyName"] != (
                       "linli-dispatch-failures-replay") for r in resource["Properties"]["Roles"])
