"""DynamoDB write units per request and per ticket lifecycle, counted from item sizes, the way DynamoDB bills them.

A botocore hook on every client of the process (the API's and every consumer's: they all run in the embedded
stack) sees each write — PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems — and reads the items
it touches just before and just after (through a client of its own that is not counted). For each item:

- the table: ⌈max(size before, size after) / 1 KB⌉ write units; ×2 inside a transaction (a ``ConditionCheck``
  included: DynamoDB bills it as a transactional write of the item it checks);
- each global secondary index (from ``infra/resources.json``: its keys and projection): nothing when the item is
  in it neither before nor after or none of its projected attributes changed; one write of the index entry
  (base keys + index keys + projected attributes + 100 bytes) when it is put, changed or removed; two when its index
  keys changed (the old entry removed, the new one put).

Item size follows DynamoDB's rules: attribute names and values in UTF-8 bytes, numbers at about one byte per two
digits plus one, a map or list 3 bytes plus its members. Prices: us-east-1 on-demand, $0.625 per million write
request units (``PRICE_PER_MILLION``).

The lifecycle is the one of the performance issue: a staff member files a ticket for a resident, acknowledges it,
assigns a technician, who starts and resolves it, it is closed, and the resident rates it — each step followed
until every consumer is idle, so what the notifications, webhooks, reports and SLA consumers write for it is
counted with the step that caused it. The tenant's time zone is one where it is daytime (``bench.daytime``): at
night quiet hours would hold the resident's SMS and add a hold item to each step that notifies them.
"""
from __future__ import annotations

import json
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import botocore.session

from bench.clients import on_new_clients
from bench.daytime import daytime_zone

PRICE_PER_MILLION = 0.625
RESOURCES = Path(__file__).resolve().parent.parent / "infra" / "resources.json"
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
BACKGROUND = frozenset({"sweep_state"})  # the per-minute sweeps' own state: platform-wide, not any ticket's


def _kind(item: dict[str, Any]) -> str:
    """An item's type: its ``entity``, or for the small counters written by ``ADD`` alone the kind in its key.

    >>> _kind({"entity": {"S": "ticket"}}), _kind({"PK": {"S": "T#tnt_1#LOAD#usr_1"}, "SK": {"S": "LOAD"}})
    ('ticket', 'LOAD')
    """
    if "entity" in item:
        return item["entity"]["S"]
    parts = item.get("PK", {}).get("S", "").split("#")
    return parts[2] if len(parts) > 2 else "?"
INDEX_OVERHEAD = 100


# --- item sizes (pure) --------------------------------------------------------------------------------------------
def value_size(value: dict[str, Any]) -> int:
    """The stored size of one attribute value (DynamoDB's rules, numbers approximated).

    >>> value_size({"S": "翠苑"}), value_size({"N": "12345"}), value_size({"M": {"a": {"BOOL": True}}})
    (6, 4, 5)
    """
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = len(str(inner).lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None, names: set[str] | None = None) -> int:
    """The size of an item (or of its attributes in ``names``)."""
    if not item:
        return 0
    return sum(len(k.encode()) + value_size(v) for k, v in item.items() if names is None or k in names)


def units(size: int) -> int:
    return math.ceil(size / 1024) if size else 0


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    include: tuple[str, ...] = ()

    def entry(self, item: dict[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The index's copy of ``item`` (None: the item is not in the index)."""
        if not item or not all(k in item for k in self.keys):
            return None
        if self.projection == "ALL":
            return item
        kept = set(table_keys) | set(self.keys) | (set(self.include) if self.projection == "INCLUDE" else set())
        return {k: v for k, v in item.items() if k in kept}

    def writes(self, before: dict[str, Any] | None, after: dict[str, Any] | None, table_keys: tuple[str, ...]
               ) -> int:
        """Write units the index spends on one item's change.

        >>> i = Index("GSI1", ("G1PK", "G1SK"), "ALL")
        >>> item = {"PK": {"S": "a"}, "SK": {"S": "b"}, "G1PK": {"S": "x"}, "G1SK": {"S": "1"}}
        >>> i.writes(None, item, ("PK", "SK")), i.writes(item, item, ("PK", "SK"))
        (1, 0)
        >>> i.writes(item, {**item, "G1SK": {"S": "2"}}, ("PK", "SK"))
        2
        """
        old, new = self.entry(before, table_keys), self.entry(after, table_keys)
        if old is None and new is None or old == new:
            return 0
        size = lambda entry: item_size(entry) + INDEX_OVERHEAD  # noqa: E731
        if old is None:
            return units(size(new))
        if new is None:
            return units(size(old))
        if any(old.get(k) != new.get(k) for k in self.keys):
            return units(size(old)) + units(size(new))
        return units(max(size(old), size(new)))


def table_definition(path: Path = RESOURCES) -> tuple[tuple[str, ...], list[Index]]:
    resources = json.loads(path.read_text())["Resources"]
    table = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table")
    keys = tuple(k["AttributeName"] for k in table["KeySchema"])
    indexes = [Index(g["IndexName"], tuple(k["AttributeName"] for k in g["KeySchema"]),
                     g["Projection"]["ProjectionType"], tuple(g["Projection"].get("NonKeyAttributes", ())))
               for g in table.get("GlobalSecondaryIndexes", [])]
    return keys, indexes


# --- the counter --------------------------------------------------------------------------------------------------
@dataclass
class Tally:
    table: int = 0
    indexes: int = 0
    calls: int = 0
    by_index: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_entity: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def total(self) -> int:
        return self.table + self.indexes

    def add(self, other: Tally) -> None:
        self.table += other.table
        self.indexes += other.indexes
        self.calls += other.calls
        for k, v in other.by_index.items():
            self.by_index[k] += v
        for k, v in other.by_entity.items():
            self.by_entity[k] += v


def _python_value(value: Any) -> dict[str, Any]:
    """A boto3-style (typed) value back to the wire shape, for the few callers that pass resource-style items."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N", "B", "BOOL", "NULL", "M",
                                                                              "L", "SS", "NS", "BS"):
        return value
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(value)}
    raise TypeError(f"cannot size {value!r}")


class WriteCounter:
    """Install once, before the stack builds its clients; ``measure`` a step; read its :class:`Tally`."""

    def __init__(self, table_name: str, endpoint_url: str) -> None:
        self.table_name = table_name
        self.table_keys, self.indexes = table_definition()
        self._peek = botocore.session.get_session().create_client(
            "dynamodb", region_name="us-east-1", endpoint_url=endpoint_url, aws_access_key_id="testing",
            aws_secret_access_key="testing")  # noqa: S106 - the emulator's
        self._pending = threading.local()
        self._lock = threading.Lock()
        self.tally = Tally()

    def install(self) -> Callable[[], None]:
        """Count the writes of every client built from now on; returns what takes the counting out again (the
        counter reads items through the emulator of this step: the next step's clients must not call it)."""
        def register(client: Any) -> None:
            if client.meta.service_model.service_name == "dynamodb":
                client.meta.events.register("before-parameter-build.dynamodb", self._before)
                client.meta.events.register("after-call.dynamodb", self._after)

        return on_new_clients(register)

    @contextmanager
    def measure(self) -> Iterator[Tally]:
        with self._lock:
            self.tally = Tally()
        yield self.tally

    # --- hooks ------------------------------------------------------------------------------------------------------
    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[dict[str, Any], bool]]:
        """(key, transactional) of every item the write touches."""
        def key_of(item: dict[str, Any]) -> dict[str, Any]:
            return {k: _python_value(item[k]) for k in self.table_keys}

        if operation in ("PutItem",):
            return [(key_of(params["Item"]), False)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(key_of(params["Key"]), False)]
        if operation == "BatchWriteItem":
            out = []
            for requests in params["RequestItems"].values():
                for request in requests:
                    if "PutRequest" in request:
                        out.append((key_of(request["PutRequest"]["Item"]), False))
                    else:
                        out.append((key_of(request["DeleteRequest"]["Key"]), False))
            return out
        out = []
        for entry in params["TransactItems"]:
            (kind, body), = entry.items()
            out.append((key_of(body["Item"] if kind == "Put" else body["Key"]), True))
        return out

    def _read(self, key: dict[str, Any]) -> dict[str, Any] | None:
        return self._peek.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")

    def _before(self, model: Any = None, params: dict[str, Any] | None = None, **_: Any) -> None:
        if model is None or model.name not in WRITES or params is None:
            return
        targets = self._targets(model.name, params)
        self._pending.seen = [(key, transactional, self._read(key)) for key, transactional in targets]

    def _after(self, model: Any = None, http_response: Any = None, **_: Any) -> None:
        if model is None or model.name not in WRITES:
            return
        seen = getattr(self._pending, "seen", None) or []
        self._pending.seen = []
        if http_response is not None and getattr(http_response, "status_code", 200) >= 300:
            return  # refused (a condition failed): DynamoDB still bills the table write, but nothing changed
        step = Tally()
        for key, transactional, before in seen:
            after = self._read(key)
            if before == after and not transactional:
                continue
            entity = _kind(after or before or key)
            if entity in BACKGROUND:
                continue
            spent = units(max(item_size(before), item_size(after))) * (2 if transactional else 1)
            step.calls = 1  # the write call (one, however many items it moved)
            step.table += spent
            step.by_entity[entity] += spent
            for index in self.indexes:
                spent = index.writes(before, after, self.table_keys)
                step.indexes += spent
                step.by_index[index.name] += spent
                step.by_entity[entity] += spent
        with self._lock:
            self.tally.add(step)


# --- the lifecycle ------------------------------------------------------------------------------------------------
@dataclass
class Step:
    name: str
    tally: Tally


def lifecycle(stack: Any, counter: Any, api: Any, *, prepare: Callable[[Any], None] | None = None) -> list[Step]:
    """The lifecycle, each step measured by ``counter.measure()`` (``prepare`` gets the new tenant first)."""
    from tests.helpers import request_code

    tenant = api.new_tenant()
    api.patch("/v1/tenant", token=tenant.token, json={"timezone": daytime_zone()})  # no quiet-hours holds (above)
    if prepare:
        prepare(tenant)
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()["id"]
    building = api.post(f"/v1/communities/{community}/buildings", token=tenant.token, json={"name": "1栋"}).json()["id"]
    unit = api.post(f"/v1/communities/{community}/units", token=tenant.token,
                    json={"building_id": building, "number": "101"}).json()["id"]
    phone = "13500000009"
    resident = api.post("/v1/residents", token=tenant.token, json={"name": "陈先生", "phone": phone, "units": [
        {"unit_id": unit, "community_id": community}]}).json()["id"]
    technician, tech_token = api.add_staff(tenant, "technician")
    code = request_code(api, tenant.slug, phone)
    resident_token = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify",
                              json={"phone": phone, "code": code}).json()["access_token"]
    settle_all(stack)

    steps: list[Step] = []

    def step(name: str, action: Callable[[], Any]) -> Any:
        with counter.measure() as tally:
            response = action()
            assert response.status_code < 300, (name, response.status_code, response.text)
            settle_all(stack)
        steps.append(Step(name, tally))
        return response.json() if response.content else {}

    ticket = step("create (staff, for a resident)", lambda: api.post("/v1/tickets", token=tenant.token, json={
        "kind": "repair", "category": "水电", "description": "厨房水管漏水", "resident_id": resident,
        "location": {"community_id": community, "unit_id": unit}}))
    path = f"/v1/tickets/{ticket['id']}/actions"
    step("acknowledge", lambda: api.post(f"{path}/acknowledge", token=tenant.token, json={}))
    step("assign", lambda: api.post(f"{path}/assign", token=tenant.token, json={"assignee_id": technician["id"]}))
    step("start", lambda: api.post(f"{path}/start", token=tech_token, json={}))
    step("resolve", lambda: api.post(f"{path}/resolve", token=tech_token, json={"note": "已更换水管接头"}))
    step("close", lambda: api.post(f"{path}/close", token=tenant.token, json={}))
    step("rate (resident)", lambda: api.post(f"/v1/me/tickets/{ticket['id']}/rate", token=resident_token,
                                             json={"score": 5}))
    return steps


def settle_all(stack: Any) -> None:
    for queue in stack.resources.queue_urls:
        stack.settle(queue, timeout=60)


def run() -> list[Step]:
    from devstack.stack import LocalStack, free_port
    from tests.helpers import ApiClient

    aws_port = free_port()
    stack = LocalStack(http_port=free_port(), aws_port=aws_port, table_name="linli-writecost", seed=False)
    counter = WriteCounter("linli-writecost", f"http://127.0.0.1:{aws_port}")
    uninstall = counter.install()
    try:
        stack.start()
        return lifecycle(stack, counter, ApiClient(stack.api_url))
    finally:
        stack.stop()
        uninstall()


def report(steps: list[Step]) -> str:
    lines = [f"{'lifecycle step':<32} {'table':>6} {'GSIs':>6} {'total':>6} {'writes':>7}  GSI1/2/3/4/Due",
             "-" * 92]
    whole = Tally()
    for s in steps:
        whole.add(s.tally)
        per_index = "/".join(str(s.tally.by_index.get(n, 0)) for n in ("GSI1", "GSI2", "GSI3", "GSI4", "DueIndex"))
        lines.append(f"{s.name:<32} {s.tally.table:>6} {s.tally.indexes:>6} {s.tally.total:>6} {s.tally.calls:>7}  "
                     f"{per_index}")
    per_index = "/".join(str(whole.by_index.get(n, 0)) for n in ("GSI1", "GSI2", "GSI3", "GSI4", "DueIndex"))
    lines.append(f"{'whole lifecycle':<32} {whole.table:>6} {whole.indexes:>6} {whole.total:>6} {whole.calls:>7}  "
                 f"{per_index}")
    lines.append(f"\n≈ ${whole.total * PRICE_PER_MILLION:,.0f} of DynamoDB writes per million tickets "
                 f"(us-east-1 on-demand, ${PRICE_PER_MILLION} per million write units)")
    lines.append("by item type: " + ", ".join(f"{k} {v}" for k, v in sorted(whole.by_entity.items(),
                                                                         key=lambda kv: -kv[1])))
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
