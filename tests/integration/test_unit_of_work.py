"""The unit of work against DynamoDB (moto): items and event items commit together or not at all."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.errors import ConflictError
from chalicelib.core.ids import new_id
from chalicelib.storage import keys
from chalicelib.storage.table import UniqueItem
from chalicelib.storage.unit_of_work import EventItem, UnitOfWork

NOW = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
ACTOR = {"type": "staff", "id": "usr_x", "role": "admin"}


def events_in(pk: str) -> list[EventItem]:
    return list(EventItem.query(pk, EventItem.SK.startswith(keys.EVENT_PREFIX)))


def claim(pk: str, owner_id: str) -> UniqueItem:
    return UniqueItem(pk, keys.UNIQUE_SK, owner_id=owner_id)


def test_item_and_event_commit_in_one_transaction(stack):
    tenant_id = new_id("tnt")
    item = claim(keys.tenant_pk(tenant_id, "UOW"), tenant_id)
    uow = UnitOfWork(tenant_id, ACTOR, NOW)
    uow.put(item, condition=UniqueItem.PK.does_not_exist())
    uow.record("tenant.updated", subject=("tenant", tenant_id), subject_version=2,
               changes={"locale": {"before": "zh-CN", "after": "en"}})
    uow.commit()

    assert UniqueItem.get(item.PK, item.SK).owner_id == tenant_id
    [event] = events_in(keys.tenant_pk(tenant_id))  # the tenant's own events sit in its partition
    assert event.type == "tenant.updated" and event.event_id.startswith("evt_")
    assert event.actor == ACTOR and event.occurred_at == "2026-11-27T08:30:00.000Z"
    assert event.changes == {"locale": {"before": "zh-CN", "after": "en"}}
    assert event.to_message()["subject"] == {"type": "tenant", "id": tenant_id, "version": 2}


def test_other_subjects_events_have_an_audit_partition_each(stack):
    tenant_id = new_id("tnt")
    uow = UnitOfWork(tenant_id, ACTOR, NOW)
    uow.put(claim(keys.tenant_pk(tenant_id, "UOW"), "usr_1"), condition=UniqueItem.PK.does_not_exist())
    uow.record("staff.created", subject=("staff", "usr_1"), subject_version=1, data={"role": "agent"})
    uow.record("api_key.created", subject=("api_key", "key_1"))
    uow.commit()

    [staff_event] = events_in(f"T#{tenant_id}#AUDIT#staff#usr_1")
    [key_event] = events_in(f"T#{tenant_id}#AUDIT#api_key#key_1")
    assert (staff_event.type, staff_event.data, key_event.type) == ("staff.created", {"role": "agent"},
                                                                    "api_key.created")
    assert events_in(keys.tenant_pk(tenant_id)) == []


def test_a_changes_events_about_one_subject_share_one_item_and_come_back_in_order(stack):
    from chalicelib.events.dispatcher import events_from_record

    tenant_id, ticket_id = new_id("tnt"), new_id("tkt")
    uow = UnitOfWork(tenant_id, ACTOR, NOW)
    uow.put(claim(keys.tenant_pk(tenant_id, "UOW"), ticket_id), condition=UniqueItem.PK.does_not_exist())
    recorded = [uow.record("ticket.created", subject=("ticket", ticket_id), subject_version=1,
                           data={"number": "26112700001", "category": "水电"}),
                uow.record("sla.started", subject=("ticket", ticket_id), data={"clock": "first_response"}),
                uow.record("staff.updated", subject=("staff", "usr_1"), subject_version=4,
                           changes={"status": {"before": "active", "after": "away"}}),
                uow.record("sla.started", subject=("ticket", ticket_id), data={"clock": "resolution"})]
    uow.commit()

    [item] = events_in(keys.event_partition(tenant_id, "ticket", ticket_id))
    [staff_item] = events_in(keys.event_partition(tenant_id, "staff", "usr_1"))
    messages = item.to_messages()
    assert [(m["id"], m["type"], m["subject"]["version"]) for m in messages] == [
        (recorded[0].event_id, "ticket.created", 1), (recorded[1].event_id, "sla.started", None),
        (recorded[3].event_id, "sla.started", None)]
    assert [m["data"] for m in messages] == [{"number": "26112700001", "category": "水电"},
                                             {"clock": "first_response"}, {"clock": "resolution"}]
    assert all(m["actor"] == ACTOR and m["occurred_at"] == "2026-11-27T08:30:00.000Z" and m["changes"] == {}
               and m["subject"]["id"] == ticket_id and m["tenant_id"] == tenant_id for m in messages)
    assert staff_item.to_messages() == [staff_item.to_message()] and staff_item.folded is None
    # the stream carries the item as stored: the dispatcher gets the same messages back from its image
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": item.serialize()}}
    assert events_from_record(record) == messages
    stored = UniqueItem._get_connection().get_item(item.PK, item.SK)["Item"]  # compact JSON, Chinese as UTF-8
    assert '"category":"水电"' in stored["data"]["S"]


def test_a_failed_condition_writes_nothing_and_raises_the_mapped_error(stack):
    tenant_id = new_id("tnt")
    taken = claim(keys.tenant_pk(tenant_id, "TAKEN"), "usr_first")
    taken.save()
    other = claim(keys.tenant_pk(tenant_id, "FREE"), tenant_id)
    uow = UnitOfWork(tenant_id, ACTOR, NOW)
    uow.put(other, condition=UniqueItem.PK.does_not_exist())
    uow.put(claim(taken.PK, tenant_id), condition=UniqueItem.PK.does_not_exist(),
            on_conflict=ConflictError(code="slug_taken"))
    uow.record("tenant.created", subject=("tenant", tenant_id))
    with pytest.raises(ConflictError) as raised:
        uow.commit()
    assert raised.value.code == "slug_taken"
    assert UniqueItem.get(taken.PK, taken.SK).owner_id == "usr_first"
    with pytest.raises(DoesNotExist):
        UniqueItem.get(other.PK, other.SK)
    assert events_in(keys.tenant_pk(tenant_id)) == []


def test_tenant_changes_are_audited_with_before_and_after(api, tenant):
    api.patch("/v1/tenant", token=tenant.token, json={"locale": "en", "branding": {"primary_color": "#000000"}})
    [created, updated] = [e for e in events_in(keys.tenant_pk(tenant.id)) if e.type.startswith("tenant.")]
    assert created.type == "tenant.created" and created.actor["type"] == "system"
    assert updated.type == "tenant.updated" and updated.subject_version == 2
    assert updated.actor == {"type": "staff", "id": tenant.admin_id, "role": "admin"}
    assert updated.changes["locale"] == {"before": "zh-CN", "after": "en"}
    assert updated.changes["branding"]["after"]["primary_color"] == "#000000"
    assert updated.changes["branding"]["before"]["primary_color"] == "#1677FF"


def test_staff_and_api_key_events_land_in_their_audit_partitions(api, tenant):
    member, _ = api.add_staff(tenant, "agent")
    key = api.post("/v1/api-keys", token=tenant.token, json={"name": "ERP", "scopes": ["tenant:read"]}).json()
    [created] = events_in(keys.event_partition(tenant.id, "staff", member["id"]))
    assert (created.type, created.data, created.subject_version) == ("staff.created", {"role": "agent"}, 1)
    [key_created] = events_in(keys.event_partition(tenant.id, "api_key", key["id"]))
    assert key_created.type == "api_key.created" and key_created.data["scopes"] == ["tenant:read"]
    assert [e.type for e in events_in(keys.tenant_pk(tenant.id))] == ["tenant.created"]


def test_a_cancelled_transaction_leaves_items_and_the_stream_as_they_were(stack):
    """The local stack's cheaper rollback (devstack/aws.py) restores exactly what moto's full copy did."""
    import boto3

    from chalicelib.storage.table import CounterItem

    tenant_id = new_id("tnt")
    counter = CounterItem(keys.tenant_pk(tenant_id, "C"), "C", count=5)
    counter.save()
    streams = boto3.client("dynamodbstreams", endpoint_url=stack.endpoint)
    stream_arn = stack.resources.stream_arn

    def stream_keys() -> list[str]:
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        found = []
        while True:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            found += [r["dynamodb"]["Keys"]["PK"]["S"] for r in page["Records"]]
            if not page["Records"]:
                return found
            iterator = page["NextShardIterator"]

    uow = UnitOfWork(tenant_id, ACTOR, NOW)
    uow.update(counter, [CounterItem.count.add(1)])  # would apply first…
    fresh = claim(keys.tenant_pk(tenant_id, "NEW"), tenant_id)
    uow.put(fresh)
    uow.check(CounterItem, counter.PK, "missing", CounterItem.PK.exists(), on_conflict=ConflictError())  # …fails
    uow.record("tenant.updated", subject=("tenant", tenant_id))
    with pytest.raises(ConflictError):
        uow.commit()
    assert CounterItem.get(counter.PK, "C").count == 5
    with pytest.raises(DoesNotExist):
        UniqueItem.get(fresh.PK, fresh.SK)
    assert events_in(keys.tenant_pk(tenant_id)) == []
    mine = {counter.PK, fresh.PK, keys.tenant_pk(tenant_id)}
    assert [k for k in stream_keys() if k in mine] == [counter.PK]  # only the counter's own save


def test_one_update_expression_text_applies_to_each_item_on_its_own_and_a_bad_one_is_refused_every_time(stack):
    """The local stack parses an update expression once per text (devstack/aws.py): the parsed tree is shared, so
    applying it must not leave one item's values in it for the next, and a refused text must stay refused."""
    import boto3
    from botocore.exceptions import ClientError

    dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoint)
    tenant_id = new_id("tnt")
    expression = "SET #n = :n, #c = if_not_exists(#c, :zero) + :one REMOVE gone"
    names = {"#n": "note", "#c": "count"}
    for n, key in enumerate(("A", "B", "A")):
        dynamodb.update_item(TableName=stack.table_name, Key={"PK": {"S": f"{tenant_id}#{key}"}, "SK": {"S": "X"}},
                             UpdateExpression=expression, ExpressionAttributeNames=names,
                             ExpressionAttributeValues={":n": {"S": f"note {n}"}, ":zero": {"N": "0"},
                                                        ":one": {"N": str(n + 1)}})
    items = {key: dynamodb.get_item(TableName=stack.table_name, Key={"PK": {"S": f"{tenant_id}#{key}"},
                                                                    "SK": {"S": "X"}})["Item"] for key in "AB"}
    assert (items["A"]["note"], items["A"]["count"]) == ({"S": "note 2"}, {"N": "4"})  # 1, then + 3
    assert (items["B"]["note"], items["B"]["count"]) == ({"S": "note 1"}, {"N": "2"})
    for _ in range(2):
        with pytest.raises(ClientError, match="reserved keyword"):
            dynamodb.update_item(TableName=stack.table_name, Key={"PK": {"S": f"{tenant_id}#A"}, "SK": {"S": "X"}},
                                 UpdateExpression="SET counter = :one", ExpressionAttributeValues={":one": {"N": "1"}})
