"""The unit of work against DynamoDB (moto): items and event items commit together or not at all."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.errors import ConflictError
from chalicelib.core.ids import new_id
from chalicelib.storage import keys
from chalicelib.storage.unit_of_work import EventItem, UnitOfWork
from chalicelib.tenants.repository import SlugItem

NOW = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
ACTOR = {"type": "staff", "id": "usr_x", "role": "admin"}


def events_in(pk: str) -> list[EventItem]:
    return list(EventItem.query(pk, EventItem.SK.startswith(keys.EVENT_PREFIX)))


def test_item_and_event_commit_in_one_transaction(stack):
    tenant_id = new_id("tnt")
    slug = SlugItem(keys.slug_pk(f"uow-{tenant_id}"), keys.SLUG_SK, tenant_id=tenant_id)
    uow = UnitOfWork(tenant_id, ACTOR, NOW)
    uow.put(slug, condition=SlugItem.PK.does_not_exist())
    uow.record("tenant.updated", pk=keys.tenant_pk(tenant_id), subject=("tenant", tenant_id), subject_version=2,
               changes={"locale": {"before": "zh-CN", "after": "en"}})
    uow.commit()

    assert SlugItem.get(slug.PK, slug.SK).tenant_id == tenant_id
    [event] = events_in(keys.tenant_pk(tenant_id))
    assert event.type == "tenant.updated" and event.event_id.startswith("evt_")
    assert event.actor == ACTOR and event.occurred_at == "2026-11-27T08:30:00.000Z"
    assert event.changes == {"locale": {"before": "zh-CN", "after": "en"}}
    assert event.to_message()["subject"] == {"type": "tenant", "id": tenant_id, "version": 2}


def test_a_failed_condition_writes_nothing_and_raises_the_mapped_error(stack):
    tenant_id = new_id("tnt")
    taken = SlugItem(keys.slug_pk(f"taken-{tenant_id}"), keys.SLUG_SK, tenant_id="tnt_first")
    taken.save()
    other = SlugItem(keys.slug_pk(f"free-{tenant_id}"), keys.SLUG_SK, tenant_id=tenant_id)
    uow = UnitOfWork(tenant_id, ACTOR, NOW)
    uow.put(other, condition=SlugItem.PK.does_not_exist())
    uow.put(SlugItem(taken.PK, taken.SK, tenant_id=tenant_id), condition=SlugItem.PK.does_not_exist(),
            on_conflict=ConflictError(code="slug_taken"))
    uow.record("tenant.created", pk=keys.tenant_pk(tenant_id), subject=("tenant", tenant_id))
    with pytest.raises(ConflictError) as raised:
        uow.commit()
    assert raised.value.code == "slug_taken"
    assert SlugItem.get(taken.PK, taken.SK).tenant_id == "tnt_first"
    with pytest.raises(DoesNotExist):
        SlugItem.get(other.PK, other.SK)
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
    uow.put(SlugItem(keys.slug_pk(f"new-{tenant_id}"), keys.SLUG_SK, tenant_id=tenant_id))
    uow.check(CounterItem, counter.PK, "missing", CounterItem.PK.exists(), on_conflict=ConflictError())  # …fails
    uow.record("tenant.updated", pk=keys.tenant_pk(tenant_id), subject=("tenant", tenant_id))
    with pytest.raises(ConflictError):
        uow.commit()
    assert CounterItem.get(counter.PK, "C").count == 5
    with pytest.raises(DoesNotExist):
        SlugItem.get(keys.slug_pk(f"new-{tenant_id}"), keys.SLUG_SK)
    assert events_in(keys.tenant_pk(tenant_id)) == []
    mine = {counter.PK, keys.slug_pk(f"new-{tenant_id}"), keys.tenant_pk(tenant_id)}
    assert [k for k in stream_keys() if k in mine] == [counter.PK]  # only the counter's own save
