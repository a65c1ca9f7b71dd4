"""In-memory stand-in for ``webhooks.repository``: the same records, conditions, leases and pages, no I/O.

``tests/contract/test_webhooks_repository.py`` runs the same tests on it and on DynamoDB.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import replace
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.webhooks.domain import Delivery, Endpoint
from tests.fakes.storage import InMemoryUnitOfWork, MemoryStore

ENDPOINT_FIELDS = ("url", "description", "event_types", "enabled", "disabled_reason", "disabled_at",
                   "failing_since", "secrets", "updated_at", "version")


class InMemoryWebhookRepository:
    """Endpoints and deliveries in ``store.tables``."""

    def __init__(self, store: MemoryStore, cursors: CursorCodec | None = None) -> None:
        self.cursors = cursors or CursorCodec(b"fake-cursor-key-" * 2)
        self.endpoints_: dict[tuple[str, str], Endpoint] = store.table("webhooks.endpoints")
        self.deliveries: dict[tuple[str, str, str], Delivery] = store.table("webhooks.deliveries")
        self.counts: dict[str, int] = store.table("webhooks.counts")  # endpoints per tenant, as the counter item

    # --- endpoints --------------------------------------------------------------------------------
    def get_endpoint(self, ctx: TenantContext, endpoint_id: str, *, consistent: bool = False) -> Endpoint | None:
        return copy.deepcopy(self.endpoints_.get((ctx.tenant_id, endpoint_id)))

    def endpoints(self, ctx: TenantContext) -> list[Endpoint]:
        return [copy.deepcopy(e) for (tenant, _), e in sorted(self.endpoints_.items()) if tenant == ctx.tenant_id]

    def list_endpoints(self, ctx: TenantContext, limit: int, cursor: str | None
                       ) -> tuple[list[Endpoint], str | None]:
        after = (self.cursors.decode(ctx.tenant_id, cursor) or {}).get("after", {}).get("S", "")
        page = [e for e in self.endpoints(ctx) if e.endpoint_id > after][:limit]
        last = {"after": {"S": page[-1].endpoint_id}} if len(page) == limit else None
        next_cursor = self.cursors.encode(ctx.tenant_id, last) if last else None
        return page, next_cursor

    def stage_new_endpoint(self, uow: InMemoryUnitOfWork, ctx: TenantContext, endpoint: Endpoint, *,
                           most: int | None = None, on_full: LinliError | None = None) -> None:
        key, tenant = (ctx.tenant_id, endpoint.endpoint_id), ctx.tenant_id
        uow.stage(lambda: self.endpoints_.__setitem__(key, copy.deepcopy(endpoint)),
                  check=lambda: key not in self.endpoints_)
        uow.stage(lambda: self.counts.__setitem__(tenant, self.counts.get(tenant, 0) + 1),
                  check=None if most is None else lambda: self.counts.get(tenant, 0) < most, on_conflict=on_full,
                  kind="update")

    def stage_update_endpoint(self, uow: InMemoryUnitOfWork, ctx: TenantContext, endpoint_id: str,
                              changes: dict[str, Any], *, expected_version: int, on_conflict: LinliError) -> None:
        unknown = set(changes) - set(ENDPOINT_FIELDS)
        if unknown:
            raise ValueError(f"not an endpoint field: {sorted(unknown)}")
        key = (ctx.tenant_id, endpoint_id)

        def apply() -> None:
            self.endpoints_[key] = replace(self.endpoints_[key], **copy.deepcopy(changes))

        uow.stage(apply, check=lambda: self._version(key) == expected_version, on_conflict=on_conflict)

    def stage_delete_endpoint(self, uow: InMemoryUnitOfWork, ctx: TenantContext, endpoint_id: str, *,
                              expected_version: int, on_conflict: LinliError) -> None:
        key, tenant = (ctx.tenant_id, endpoint_id), ctx.tenant_id
        uow.stage(lambda: self.endpoints_.pop(key, None), check=lambda: self._version(key) == expected_version,
                  on_conflict=on_conflict, kind="delete")
        uow.stage(lambda: self.counts.__setitem__(tenant, self.counts.get(tenant, 0) - 1), kind="update")

    def stage_disable(self, uow: InMemoryUnitOfWork, ctx: TenantContext, endpoint_id: str, reason: str, stamp: str,
                      *, on_conflict: LinliError) -> None:
        key = (ctx.tenant_id, endpoint_id)

        def apply() -> None:
            held = self.endpoints_[key]
            self.endpoints_[key] = replace(held, enabled=False, disabled_reason=reason, disabled_at=stamp,
                                           version=held.version + 1, updated_at=stamp)

        uow.stage(apply, check=lambda: key in self.endpoints_ and self.endpoints_[key].enabled is True,
                  on_conflict=on_conflict)

    def mark_failing(self, ctx: TenantContext, endpoint_id: str, since: str) -> bool:
        held = self.endpoints_.get((ctx.tenant_id, endpoint_id))
        if held is None or held.failing_since is not None:
            return False
        self.endpoints_[(ctx.tenant_id, endpoint_id)] = replace(held, failing_since=since)
        return True

    def clear_failing(self, ctx: TenantContext, endpoint_id: str) -> bool:
        held = self.endpoints_.get((ctx.tenant_id, endpoint_id))
        if held is None or held.failing_since is None:
            return False
        self.endpoints_[(ctx.tenant_id, endpoint_id)] = replace(held, failing_since=None)
        return True

    def _version(self, key: tuple[str, str]) -> int | None:
        held = self.endpoints_.get(key)
        return held.version if held is not None else None

    # --- deliveries -------------------------------------------------------------------------------
    def get_delivery(self, ctx: TenantContext, endpoint_id: str, delivery_id: str, *, consistent: bool = True
                     ) -> Delivery | None:
        return copy.deepcopy(self.deliveries.get((ctx.tenant_id, endpoint_id, delivery_id)))

    def delivery_and_endpoint(self, ctx: TenantContext, endpoint_id: str, delivery_id: str
                              ) -> tuple[Delivery | None, Endpoint | None]:
        return self.get_delivery(ctx, endpoint_id, delivery_id), self.get_endpoint(ctx, endpoint_id)

    def list_deliveries(self, ctx: TenantContext, endpoint_id: str, limit: int, cursor: str | None,
                        status: str | None = None) -> tuple[list[Delivery], str | None]:
        before = (self.cursors.decode(ctx.tenant_id, cursor) or {}).get("before", {}).get("S")
        mine = sorted((d for (tenant, endpoint, _), d in self.deliveries.items()
                       if tenant == ctx.tenant_id and endpoint == endpoint_id), key=lambda d: d.delivery_id,
                      reverse=True)
        page = [copy.deepcopy(d) for d in mine if (before is None or d.delivery_id < before)
                and (status is None or d.status == status)][:limit]
        last = {"before": {"S": page[-1].delivery_id}} if len(page) == limit else None
        next_cursor = self.cursors.encode(ctx.tenant_id, last) if last else None
        return page, next_cursor

    def create_delivery(self, ctx: TenantContext, delivery: Delivery) -> Delivery:
        key = (ctx.tenant_id, delivery.endpoint_id, delivery.delivery_id)
        if key not in self.deliveries:
            self.deliveries[key] = copy.deepcopy(delivery)
            return delivery
        return copy.deepcopy(self.deliveries[key])

    def create_claimed(self, ctx: TenantContext, delivery: Delivery) -> bool:
        key = (ctx.tenant_id, delivery.endpoint_id, delivery.delivery_id)
        if key in self.deliveries:
            return False
        self.deliveries[key] = copy.deepcopy(delivery)
        return True

    def reopen(self, ctx: TenantContext, delivery: Delivery, next_attempt_at: str) -> bool:
        return self._update(ctx, delivery, lambda held: held.status == delivery.status
                            and held.attempts_made == delivery.attempts_made,
                            status="pending", next_attempt_at=next_attempt_at)

    def claim_attempt(self, ctx: TenantContext, delivery: Delivery, attempt: int, lease_until: str, now: str
                      ) -> bool:
        return self._update(ctx, delivery, lambda held: held.status == "pending"
                            and held.attempts_made == attempt - 1
                            and (held.lease_until is None or held.lease_until < now), lease_until=lease_until)

    def finish_attempt(self, ctx: TenantContext, delivery: Delivery, attempt: int, record: dict[str, Any],
                       status: str, next_attempt_at: str | None, *, lease: str | None = None) -> bool:
        return self._update(ctx, delivery, lambda held: held.attempts_made == attempt - 1
                            and (lease is None or held.lease_until == lease),
                            attempts=[*delivery.attempts, copy.deepcopy(record)], attempts_made=attempt,
                            status=status, lease_until=None, next_attempt_at=next_attempt_at)

    def _update(self, ctx: TenantContext, delivery: Delivery, condition: Any, **changes: Any) -> bool:
        key = (ctx.tenant_id, delivery.endpoint_id, delivery.delivery_id)
        held = self.deliveries.get(key)
        if held is None or not condition(held):
            return False
        self.deliveries[key] = replace(held, **changes)
        return True


class FakeKms:
    """KMS's GenerateDataKey/Decrypt for one key, in memory: data keys wrapped with AES-GCM under a master key.

    Counts its calls (``decrypts``) so tests can see the data-key cache at work.
    """

    def __init__(self, key_id: str = "alias/linli-test-secrets") -> None:
        self.key_id, self.master, self.decrypts = key_id, os.urandom(32), 0

    def generate_data_key(self, *, KeyId: str, KeySpec: str, EncryptionContext: dict[str, str]  # noqa: N803
                          ) -> dict[str, Any]:
        assert KeyId == self.key_id and KeySpec == "AES_256"
        plaintext, nonce = os.urandom(32), os.urandom(12)
        aad = json.dumps(EncryptionContext, sort_keys=True).encode()
        return {"Plaintext": plaintext, "CiphertextBlob": nonce + AESGCM(self.master).encrypt(nonce, plaintext, aad),
                "KeyId": KeyId}

    def decrypt(self, *, CiphertextBlob: bytes, EncryptionContext: dict[str, str], KeyId: str | None = None  # noqa: N803
                ) -> dict[str, Any]:
        self.decrypts += 1
        aad = json.dumps(EncryptionContext, sort_keys=True).encode()
        return {"Plaintext": AESGCM(self.master).decrypt(CiphertextBlob[:12], CiphertextBlob[12:], aad)}
