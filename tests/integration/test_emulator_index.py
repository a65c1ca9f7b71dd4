"""The embedded stack's emulator answers an index Query from the items that hold the partition key's value (kept as
items are written), not by reading the table — and answers exactly what a full read would, through every way an
item's index key can change: put, in-place update, removal, replacement, deletion, a cancelled transaction."""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def dynamodb(stack):
    return boto3.client("dynamodb", endpoint_url=stack.endpoint, region_name="us-east-1")


def in_partition(dynamodb, table: str, value: str) -> list[str]:
    pages = dynamodb.get_paginator("query").paginate(
        TableName=table, IndexName="GSI2", KeyConditionExpression="GSI2PK = :p",
        ExpressionAttributeValues={":p": {"S": value}})
    return sorted(item["PK"]["S"] for page in pages for item in page["Items"])


def test_an_index_query_follows_every_change_of_the_partition_key(stack, dynamodb):
    table = stack.resources.table_name
    key = lambda n: {"PK": {"S": f"EMU#{n}"}, "SK": {"S": "X"}}  # noqa: E731

    def put(n: int, partition: str | None) -> None:
        extra = {"GSI2PK": {"S": partition}, "GSI2SK": {"S": f"{n:03}"}} if partition else {}
        dynamodb.put_item(TableName=table, Item={**key(n), **extra})

    for n in range(1, 6):
        put(n, "EMU#open")
    put(6, None)
    assert in_partition(dynamodb, table, "EMU#open") == [f"EMU#{n}" for n in range(1, 6)]

    # moved by an update in place; its sort key kept
    dynamodb.update_item(TableName=table, Key=key(1), UpdateExpression="SET GSI2PK = :c",
                         ExpressionAttributeValues={":c": {"S": "EMU#closed"}})
    # taken out of the index
    dynamodb.update_item(TableName=table, Key=key(2), UpdateExpression="REMOVE GSI2PK, GSI2SK")
    # replaced by a put into the other partition
    put(3, "EMU#closed")
    # deleted
    dynamodb.delete_item(TableName=table, Key=key(4))
    # an item outside the index joins it
    dynamodb.update_item(TableName=table, Key=key(6), UpdateExpression="SET GSI2PK = :o, GSI2SK = :s",
                         ExpressionAttributeValues={":o": {"S": "EMU#open"}, ":s": {"S": "006"}})
    assert in_partition(dynamodb, table, "EMU#open") == ["EMU#5", "EMU#6"]
    assert in_partition(dynamodb, table, "EMU#closed") == ["EMU#1", "EMU#3"]

    # a cancelled transaction: the update that would have moved item 5 is undone, and 5 is found where it was
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": key(5), "UpdateExpression": "SET GSI2PK = :c",
                        "ExpressionAttributeValues": {":c": {"S": "EMU#closed"}}}},
            {"ConditionCheck": {"TableName": table, "Key": key(99), "ConditionExpression": "attribute_exists(PK)"}}])
    assert in_partition(dynamodb, table, "EMU#open") == ["EMU#5", "EMU#6"]
    assert in_partition(dynamodb, table, "EMU#closed") == ["EMU#1", "EMU#3"]
    # and a restored item keeps following its changes
    dynamodb.update_item(TableName=table, Key=key(5), UpdateExpression="SET GSI2PK = :c",
                         ExpressionAttributeValues={":c": {"S": "EMU#closed"}})
    assert in_partition(dynamodb, table, "EMU#open") == ["EMU#6"]
    assert in_partition(dynamodb, table, "EMU#closed") == ["EMU#1", "EMU#3", "EMU#5"]
