"""The rollups in DynamoDB, and the ticket event logs they are folded from.

Items (every key under the tenant's ``T#<tenant_id>`` prefix):

- a group rollup per day × community × kind: ``PK T#<t>#RPT#G#<yyyy-mm>``, ``SK <day>#<community>#<kind>``;
- a staff rollup per day × staff member: ``PK T#<t>#RPT#S#<yyyy-mm>``, ``SK <day>#<staff_id>``;
- the tenant's running totals (opened and ended per community × kind, for the backlog): ``PK T#<t>#RPT#A``;
- each ticket's applied contributions: ``PK T#<t>#RPT#F#<ticket_id>``, ``SK fact``, with a revision.

A group or staff rollup keeps its counters packed in one attribute, ``d`` (JSON: counter → amount, the duration
histograms' ``h.<name>.<seconds>`` entries included), with a version ``v``. A change reads the rollups it touches
(one consistent BatchGetItem), adds the ticket's difference, and writes them back in the same transaction that
moves the ticket's fact item from the revision it was read at to the next, each rollup conditioned on the version
it was read at: two deliveries racing on one ticket cannot both apply (the loser re-reads, finds nothing left to
do), and two tickets racing on one rollup cannot lose each other's counts (the loser reads the rollup again). Packed,
a rollup is one attribute to store and parse whatever its counters: reading a month of them is about four times
quicker than the one-attribute-per-counter layout it replaced (``k.<counter>`` attributes changed by ``ADD``; items
still in that layout are read, and rewritten packed on their next change). An item holds up to 400 KB: some 25,000
distinct durations a day per community and kind, or per staff member.

The running totals stay ``k.<counter>`` attributes changed by ``ADD``: every ticket's opening and ending touches
that one item, where ``ADD`` never conflicts.

Reading a range costs one Query per calendar month it touches (more only past 1 MB a month), and its items number
at most days × communities × kinds (plus days × staff): independent of how many tickets there are.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.core.clock import from_rfc3339
from chalicelib.core.errors import ConflictError
from chalicelib.core.observability import logger
from chalicelib.core.uow import UnitOfWork
from chalicelib.reports.exports import ExportJob
from chalicelib.reports.facts import TOTAL_KEY, Contributions
from chalicelib.reports.fees import FeeRate
from chalicelib.storage import keys
from chalicelib.storage.keys import EVENT_PREFIX
from chalicelib.storage.table import LinliModel, transaction_connection
from chalicelib.storage.unit_of_work import EventItem

PREFIX = "k."  # the running totals' counters (and a rollup's in the layout before packing)
PACKED, VERSION = "d", "v"
MAX_ITEMS_PER_CHANGE = 99  # DynamoDB's transaction limit is 100 items: the fact item and the rollups
ROLLUP_ATTEMPTS = 8  # reads of the touched rollups before a change gives up (another ticket kept moving one)


class ReportRollupItem(LinliModel, discriminator="report_rollup"):
    """A rollup's keys; its counters are ``k.<name>`` number attributes written through the client."""


class ReportFactItem(LinliModel, discriminator="report_fact"):
    contributions = UnicodeAttribute()
    revision = NumberAttribute()


class FeeRateItem(LinliModel, discriminator="fee_rate"):
    """A community's property-fee rates for a month: ``PK T#<t>#FEE``, ``SK <yyyy-mm>#<community_id>``."""

    community_id = UnicodeAttribute()
    month = UnicodeAttribute()
    collection_rate = NumberAttribute(null=True)
    renewal_rate = NumberAttribute(null=True)
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class ExportJobItem(LinliModel, discriminator="export_job"):
    """A ticket export job: ``PK T#<t>#EXPORT``, ``SK <job_id>``; expires with its file after 7 days."""

    job = UnicodeAttribute()  # the ExportJob as JSON


EXPORT_DAYS = 7


def fee_pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id, "FEE")


class FactMovedError(ConflictError):
    """Another delivery changed the ticket's facts since they were read."""


class RollupsBusyError(ConflictError):
    """Other tickets kept changing the same rollups; the message comes back later."""


def _month(day: str) -> str:
    return day[:7]


def _item_key(tenant_id: str, key: str) -> tuple[str, str]:
    """Where a rollup key of :mod:`chalicelib.reports.facts` is stored.

    >>> _item_key("tnt_1", "G#2026-11-27#cmt_1#repair")
    ('T#tnt_1#RPT#G#2026-11', '2026-11-27#cmt_1#repair')
    >>> _item_key("tnt_1", "S#2026-11-27#usr_1")
    ('T#tnt_1#RPT#S#2026-11', '2026-11-27#usr_1')
    >>> _item_key("tnt_1", "A#all")
    ('T#tnt_1#RPT#A', 'all')
    """
    family, rest = key.split("#", 1)
    if family == "A":
        return keys.tenant_pk(tenant_id, "RPT", "A"), rest
    return keys.tenant_pk(tenant_id, "RPT", family, _month(rest)), rest


def _counters(item: dict[str, Any]) -> dict[str, int]:
    """An item's counters, packed or (the totals, and rollups not yet rewritten) one attribute each.

    >>> _counters({"d": {"S": '{"created":2,"h.fr.60":0}'}, "k.created": {"N": "1"}, "v": {"N": "3"}})
    {'created': 3}
    """
    counters: dict[str, int] = json.loads(item[PACKED]["S"]) if PACKED in item else {}
    for name, value in item.items():
        if name.startswith(PREFIX) and "N" in value:
            counters[name[len(PREFIX):]] = counters.get(name[len(PREFIX):], 0) + int(value["N"])
    return {name: amount for name, amount in counters.items() if amount}


def packed_item(pk: str, sk: str, counters: dict[str, int], version: int) -> dict[str, Any]:
    """A rollup item as stored: its counters (zeros dropped) in one attribute, and its version."""
    kept = {name: amount for name, amount in sorted(counters.items()) if amount}
    return {"PK": {"S": pk}, "SK": {"S": sk}, "entity": {"S": "report_rollup"},
            PACKED: {"S": json.dumps(kept, separators=(",", ":"))}, VERSION: {"N": str(version)}}


def rollup_item(tenant_id: str, key: str, counters: dict[str, int]) -> dict[str, Any]:
    """The first version of a group or staff rollup item holding ``counters`` (bench and tests store made-up ones)."""
    return packed_item(*_item_key(tenant_id, key), counters, 1)


def _months(start: date, end: date) -> list[str]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current.isoformat()[:7])
        current = (current.replace(day=28).toordinal() + 4)
        current = date.fromordinal(current).replace(day=1)
    return months


class ReportStore:
    """The DynamoDB :class:`~chalicelib.reports.ports.RollupStore`."""

    def __init__(self) -> None:
        self.items_read = 0  # what the last range read cost (bench and tests read it)

    @property
    def _client(self) -> Any:
        return transaction_connection().client

    @property
    def _table(self) -> str:
        return LinliModel.Meta.table_name

    def ticket_events(self, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
        """The ticket's events as stored, in the order they were recorded (one strongly consistent Query)."""
        pk = keys.event_partition(tenant_id, "ticket", ticket_id)
        return [{"type": m["type"], "occurred_at": m["occurred_at"], "actor": m["actor"] or {},
                 "changes": m["changes"], "data": m["data"]}
                for e in EventItem.query(pk, EventItem.SK.startswith(EVENT_PREFIX), consistent_read=True)
                for m in e.to_messages()]

    def fact(self, tenant_id: str, ticket_id: str) -> tuple[Contributions, int]:
        found = self._client.get_item(TableName=self._table, ConsistentRead=True, Key=self._fact_key(tenant_id,
                                                                                                     ticket_id))
        item = found.get("Item")
        if not item:
            return {}, 0
        return json.loads(item["contributions"]["S"]), int(item["revision"]["N"])

    def apply(self, tenant_id: str, ticket_id: str, contributions: Contributions, delta: Contributions,
              revision: int) -> None:
        """Move the ticket's fact item from ``revision`` to the next with ``contributions``, and add ``delta`` to
        the rollups, in one transaction; :class:`FactMovedError` when the fact moved meanwhile (fold again), the
        rollups read again when only they moved."""
        if len(delta) + 1 > MAX_ITEMS_PER_CHANGE:
            raise ValueError(f"a ticket touching {len(delta)} rollups cannot change in one transaction")
        fact = {"Put": {
            "TableName": self._table,
            "Item": {**self._fact_key(tenant_id, ticket_id), "entity": {"S": "report_fact"},
                     "contributions": {"S": json.dumps(contributions, sort_keys=True, separators=(",", ":"))},
                     "revision": {"N": str(revision + 1)}},
            "ConditionExpression": "attribute_not_exists(PK)" if revision == 0 else "revision = :seen",
            **({} if revision == 0 else {"ExpressionAttributeValues": {":seen": {"N": str(revision)}}}),
        }}
        totals = [self._add_totals(tenant_id, key, counters) for key, counters in sorted(delta.items())
                  if key == TOTAL_KEY]
        packed = sorted(key for key in delta if key != TOTAL_KEY)
        for _ in range(ROLLUP_ATTEMPTS):
            current = self._read_rollups(tenant_id, packed)
            writes = [self._put_rollup(tenant_id, key, *current.get(key, ({}, 0)), delta[key]) for key in packed]
            try:
                self._client.transact_write_items(TransactItems=[fact, *totals, *writes])
                return
            except self._client.exceptions.TransactionCanceledException as exc:
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    raise FactMovedError("The ticket's report facts moved; read again.") from exc
                if not any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in reasons):
                    raise
                logger.info("report rollups moved; reading them again", extra={"ticket_id": ticket_id})
        raise RollupsBusyError("The report rollups kept moving; the message comes back later.")

    def _read_rollups(self, tenant_id: str, keys_: list[str]) -> dict[str, tuple[dict[str, int], int]]:
        """The touched rollups' counters and versions (absent: none yet), one consistent BatchGetItem."""
        wanted = {_item_key(tenant_id, key): key for key in keys_}
        out: dict[str, tuple[dict[str, int], int]] = {}
        pending = [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in wanted]
        while pending:
            request = {self._table: {"Keys": pending[:100], "ConsistentRead": True}}
            pending = pending[100:]
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table, []):
                    key = wanted[(item["PK"]["S"], item["SK"]["S"])]
                    out[key] = (_counters(item), int(item[VERSION]["N"]) if VERSION in item else 0)
                request = answer.get("UnprocessedKeys") or {}
        return out

    def _put_rollup(self, tenant_id: str, key: str, counters: dict[str, int], version: int,
                    change: dict[str, int]) -> dict[str, Any]:
        summed = dict(counters)
        for name, amount in change.items():
            summed[name] = summed.get(name, 0) + amount
        put: dict[str, Any] = {"TableName": self._table,
                               "Item": packed_item(*_item_key(tenant_id, key), summed, version + 1)}
        if version:
            put |= {"ConditionExpression": "#v = :seen", "ExpressionAttributeNames": {"#v": VERSION},
                    "ExpressionAttributeValues": {":seen": {"N": str(version)}}}
        else:  # none yet, or one in the layout before packing (whose counters were read)
            put |= {"ConditionExpression": "attribute_not_exists(#v)", "ExpressionAttributeNames": {"#v": VERSION}}
        return {"Put": put}

    def _add_totals(self, tenant_id: str, key: str, counters: dict[str, int]) -> dict[str, Any]:
        pk, sk = _item_key(tenant_id, key)
        names = {f"#c{i}": PREFIX + name for i, name in enumerate(sorted(counters))}
        values = {f":v{i}": {"N": str(counters[name])} for i, name in enumerate(sorted(counters))}
        return {"Update": {
            "TableName": self._table, "Key": {"PK": {"S": pk}, "SK": {"S": sk}},
            "UpdateExpression": "SET #entity = :entity ADD " + ", ".join(f"#c{i} :v{i}" for i in range(len(counters))),
            "ExpressionAttributeNames": {"#entity": "entity", **names},
            "ExpressionAttributeValues": {":entity": {"S": "report_rollup"}, **values},
        }}

    def rollups(self, tenant_id: str, family: str, start: date, end: date) -> list[tuple[str, dict[str, int]]]:
        """Every rollup of ``family`` (``G`` groups, ``S`` staff) for the days [start, end], as
        (facts key, counters); one Query per month (and per 1 MB page)."""
        out = []
        self.items_read = 0
        low, high = start.isoformat(), end.isoformat() + "#\uffff"
        for month in _months(start, end):
            for item in self._query(keys.tenant_pk(tenant_id, "RPT", family, month), low, high):
                out.append((f"{family}#{item['SK']['S']}", _counters(item)))
        return out

    def totals(self, tenant_id: str) -> dict[str, int]:
        pk, sk = _item_key(tenant_id, TOTAL_KEY)
        found = self._client.get_item(TableName=self._table, Key={"PK": {"S": pk}, "SK": {"S": sk}})
        self.items_read += 1
        return _counters(found.get("Item") or {})

    def _query(self, pk: str, low: str, high: str) -> Iterator[dict[str, Any]]:
        start: dict[str, Any] | None = None
        while True:
            page = self._client.query(
                TableName=self._table, KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
                ExpressionAttributeValues={":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
                **({"ExclusiveStartKey": start} if start else {}))
            self.items_read += len(page.get("Items", []))
            yield from page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def stage_fee_rate(self, uow: UnitOfWork, tenant_id: str, rate: FeeRate) -> None:
        uow.put(FeeRateItem(fee_pk(tenant_id), f"{rate.month}#{rate.community_id}", community_id=rate.community_id,
                            month=rate.month, collection_rate=rate.collection_rate, renewal_rate=rate.renewal_rate,
                            updated_at=rate.updated_at, updated_by=rate.updated_by))

    def fee_rates(self, tenant_id: str, first_month: str, last_month: str) -> list[FeeRate]:
        """The rates recorded for [first_month, last_month], by month then community (one Query)."""
        items = FeeRateItem.query(fee_pk(tenant_id), FeeRateItem.SK.between(first_month, last_month + "#\uffff"))
        return [FeeRate(i.community_id, i.month, None if i.collection_rate is None else float(i.collection_rate),
                        None if i.renewal_rate is None else float(i.renewal_rate), i.updated_at, i.updated_by)
                for i in items]

    def stage_export(self, uow: UnitOfWork, tenant_id: str, job: ExportJob) -> None:
        uow.put(self._export_item(tenant_id, job), condition=ExportJobItem.PK.does_not_exist())

    def save_export(self, tenant_id: str, job: ExportJob) -> None:
        self._export_item(tenant_id, job).save()

    def export(self, tenant_id: str, job_id: str) -> ExportJob | None:
        try:
            item = ExportJobItem.get(keys.tenant_pk(tenant_id, "EXPORT"), job_id, consistent_read=True)
        except ExportJobItem.DoesNotExist:
            return None
        return ExportJob(**json.loads(item.job))

    @staticmethod
    def _export_item(tenant_id: str, job: ExportJob) -> ExportJobItem:
        expires = int(from_rfc3339(job.created_at).timestamp()) + EXPORT_DAYS * 86400
        return ExportJobItem(keys.tenant_pk(tenant_id, "EXPORT"), job.job_id, job=json.dumps(asdict(job)),
                             expires_at=expires)

    @staticmethod
    def _fact_key(tenant_id: str, ticket_id: str) -> dict[str, Any]:
        return {"PK": {"S": keys.tenant_pk(tenant_id, "RPT", "F", ticket_id)}, "SK": {"S": "fact"}}
