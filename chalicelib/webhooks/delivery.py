"""The webhooks consumer: events → one delivery per matching endpoint → signed attempts with retries.

Two kinds of message share the webhooks queue:

* an **event** from the outbox: for each enabled endpoint whose filter takes the type, a delivery
  item keyed by (endpoint, event) is stored once and its first attempt queued;
* an **attempt** (``kind = webhook.attempt``): claimed with a lease by a conditional update (a
  duplicate message finds the attempt taken and does nothing), sent over the SSRF-guarded
  connection, then the next attempt is queued *before* the outcome is recorded — a crash in
  between re-runs the attempt after the lease (at least once; receivers dedupe by
  ``webhook-id``) and never loses the retry.

Waits longer than SQS's 15-minute delay hop: an attempt arriving before its ``not_before`` is
queued again for the rest of the wait.

**The first attempt is made in the fan-out** when it can be (``inline_within``): the delivery is stored with
attempt 1 already claimed (one conditional PutItem), sent, and its outcome recorded (one UpdateItem) — two calls
for a delivery that succeeds, against five through a queued attempt. It is queued instead, as before, when the
endpoint is failing (a slow receiver must not hold up the batch), when the endpoint list is more than
``INLINE_FRESH`` old (the attempt then reads the endpoint as it is now), when what is left of the invocation could
not cover a worst-case attempt, and whenever no budget was given. A redelivered event finds the delivery stored:
its attempt 1 is queued to run once the lease is over, and finds the attempt done (stale) unless the first run
died mid-way — nothing is lost, and receivers dedupe by ``webhook-id`` as for any retry.

What it costs: a tenant's endpoints are read (one Query) at most once for every event that happened before the last
read — a batch of events read from the queue together costs one Query per tenant, with webhooks or without (see
``_endpoints``); an inline delivery then costs a PutItem and an UpdateItem; a queued one a PutItem and an SQS
message, and its attempt a BatchGetItem (the delivery and its endpoint), the claim and the outcome (two
UpdateItems); KMS opens a secret once per container per five minutes (``SecretBox``).
"""
from __future__ import annotations

import http.client
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import ConflictError
from chalicelib.core.observability import logger, metrics
from chalicelib.core.queues import sqs_delay
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.webhooks import ssrf
from chalicelib.webhooks.domain import (
    EXCERPT_BYTES,
    Delivery,
    Endpoint,
    Outcome,
    attempt_message,
    classify,
    matches,
    new_delivery,
    retry_delay,
    should_auto_disable,
)
from chalicelib.webhooks.ports import WebhookStore
from chalicelib.webhooks.service import Enqueue
from chalicelib.webhooks.signing import SecretBox, active_secrets, sign_headers

LEASE_MARGIN_SECONDS = 45
OUTCOME_PENDING_DELAY = 2
CLOCK_MARGIN = timedelta(seconds=2)  # how far the API's and this container's clocks may disagree
KNOWN_TENANTS = 2048  # endpoint lists kept per container
INLINE_FRESH = timedelta(seconds=10)  # how old an endpoint list may be to make a first attempt from it
INLINE_RESERVE_SECONDS = 10.0  # of an invocation's time, kept for recording what was done
Send = Callable[..., ssrf.Response]


def describe(exc: BaseException, timeout: float) -> str:
    """A short, safe description of why an attempt got no answer.

    Example
    -------
    >>> describe(ConnectionRefusedError(), 15), describe(TimeoutError(), 15)
    ('connection refused', 'no answer within 15 s')
    """
    if isinstance(exc, ssrf.UnsafeUrl):
        return f"refused: {exc}"
    if isinstance(exc, TimeoutError):  # socket.timeout too
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or type(exc).__name__}"
    return f"connection failed ({type(exc).__name__})"


class _DisabledAlreadyError(ConflictError):
    """Another attempt disabled the endpoint first."""


class WebhookDeliverer:
    """Owns getting events to endpoints: one delivery per (event, endpoint), attempts claimed, retried, recorded."""

    def __init__(self, store: WebhookStore, new_uow: UnitOfWorkFactory, box: SecretBox, enqueue: Enqueue, *,
                 https_only: bool, allow_loopback: bool, retry_scale: float = 1.0, timeout: float = 15.0,
                 disable_after_seconds: int = 5 * 86400, resolve: ssrf.Resolver = ssrf.system_resolver,
                 send: Send = ssrf.post, rand: random.Random | None = None) -> None:
        self.store, self.new_uow, self.box, self.enqueue = store, new_uow, box, enqueue
        self.https_only, self.allow_loopback, self.resolve, self.send = https_only, allow_loopback, resolve, send
        self.retry_scale, self.timeout, self.disable_after = retry_scale, timeout, disable_after_seconds
        self.rand = rand or random.Random()  # noqa: S311 - jitter, not a secret
        self._known: dict[str, tuple[datetime, list[Endpoint]]] = {}  # tenant → (read at, its endpoints)
        # time.monotonic() by which inline attempts must be over, per invocation: one per thread, since the embedded
        # stack runs a queue's concurrent batches as threads of one process (Lambda gives each its own container)
        self._invocation = threading.local()

    def inline_within(self, seconds_left: float) -> None:
        """Allow first attempts in the fan-out while a worst-case attempt still ends ``INLINE_RESERVE_SECONDS``
        before ``seconds_left`` (the invocation's remaining time) runs out."""
        self._invocation.inline_until = time.monotonic() + seconds_left - INLINE_RESERVE_SECONDS

    def handle(self, message: dict[str, Any], now: datetime) -> str:
        if message.get("kind") == "webhook.attempt":
            return self.attempt(message, now)
        queued, sent = self.fan_out(message, now)
        return f"queued {queued}" + (f", sent {sent}" if sent else "")

    # --- events → deliveries ----------------------------------------------------------------------
    def fan_out(self, event: dict[str, Any], now: datetime) -> tuple[int, int]:
        """Deliveries for an event: (attempts queued, first attempts made here)."""
        from chalicelib.events.schemas import webhook_payload

        payload = webhook_payload(event)
        if payload is None:
            return 0, 0
        ctx = _system(event["tenant_id"])
        queued = sent = 0
        started = time.monotonic()
        read_at, endpoints = self._endpoints(ctx, event.get("occurred_at"), now)
        for endpoint in endpoints:
            if not endpoint.enabled or not matches(endpoint.event_types, event["type"]):
                continue
            delivery = new_delivery(ctx.tenant_id, endpoint.endpoint_id, event, payload, now)
            at = now + timedelta(seconds=time.monotonic() - started)  # after the attempts made before it
            if self._may_inline(endpoint, read_at, at):
                lease = self._lease(at)
                if self.store.create_claimed(ctx, replace(delivery, lease_until=lease)):
                    self._run(ctx, delivery, endpoint, 1, at, lease, manual=False)
                    sent += 1
                    continue
                stored = self.store.get_delivery(ctx, endpoint.endpoint_id, delivery.delivery_id)
            else:
                stored = self.store.create_delivery(ctx, delivery)
            if stored is not None and stored.status == "pending" and stored.attempts_made == 0:
                # not attempted yet, or attempt 1 is under someone's lease: try once it is over
                leased = (from_rfc3339(stored.lease_until) - at).total_seconds() + 1 if stored.lease_until else 0
                self.enqueue(attempt_message(stored, 1), sqs_delay(max(leased, 0)))
                queued += 1
        return queued, sent

    def _may_inline(self, endpoint: Endpoint, read_at: datetime, now: datetime) -> bool:
        inline_until = getattr(self._invocation, "inline_until", None)
        return (inline_until is not None and not endpoint.failing_since and now - read_at <= INLINE_FRESH
                and time.monotonic() + self.timeout * ssrf.MAX_ADDRESSES <= inline_until)

    def _endpoints(self, ctx: TenantContext, occurred_at: str | None, now: datetime
                   ) -> tuple[datetime, list[Endpoint]]:
        """The tenant's endpoints for an event: any list read after the event happened (with a margin for clocks)
        holds every endpoint that existed then, so the events of one queue batch share one read, and a tenant
        without webhooks costs a Query per batch, not per event. An event newer than the last read is read for
        again: never a stale "no endpoints" for an endpoint created before the event. A list holding endpoints is
        also read again once it is too old to make first attempts from (``INLINE_FRESH``): while a backlog of old
        events drains, that is one Query a tenant every 10 s, where every delivery would otherwise go through the
        queue (a stored delivery, a message, a receive, a claim: about three more calls each)."""
        known = self._known.get(ctx.tenant_id)
        if (known and occurred_at and from_rfc3339(occurred_at) + CLOCK_MARGIN <= known[0]
                and (not known[1] or now - known[0] <= INLINE_FRESH)):
            return known
        found = self.store.endpoints(ctx)
        if len(self._known) >= KNOWN_TENANTS:
            self._known.clear()
        self._known[ctx.tenant_id] = (now, found)  # read after ``now``: at least as fresh as that
        return now, found

    # --- one attempt ------------------------------------------------------------------------------
    def attempt(self, message: dict[str, Any], now: datetime) -> str:
        ctx, endpoint_id, n = _system(message["tenant_id"]), message["endpoint_id"], int(message["attempt"])
        manual = bool(message.get("manual"))
        delivery, endpoint = self.store.delivery_and_endpoint(ctx, endpoint_id, message["delivery_id"])
        early = int(message.get("early", 0))
        if delivery is not None and delivery.status == "pending" and delivery.attempts_made == n - 2 and early < 150:
            # queued before the previous attempt's outcome was written: come back shortly
            self.enqueue({**message, "early": early + 1}, OUTCOME_PENDING_DELAY)
            return "early"
        if delivery is None or delivery.status != "pending" or delivery.attempts_made != n - 1:
            return "stale"  # done already, or a duplicate message
        not_before = message.get("not_before")
        if not_before and from_rfc3339(not_before) > now + timedelta(seconds=1):
            self.enqueue(message, sqs_delay((from_rfc3339(not_before) - now).total_seconds()))
            return "held"
        now_text = to_rfc3339(now)
        if endpoint is None or (not endpoint.enabled and not manual):
            reason = "endpoint deleted" if endpoint is None else "endpoint disabled"
            self._finish(ctx, delivery, n, {"attempt": n, "at": now_text, "error": reason, "manual": manual},
                         "failed", None)
            return reason
        lease = self._lease(now)
        if not self.store.claim_attempt(ctx, delivery, n, lease, to_rfc3339(now)):
            return "busy"
        return self._run(ctx, delivery, endpoint, n, now, lease, manual)

    def _lease(self, now: datetime) -> str:
        """How long an attempt is held: as long as it can possibly last."""
        return to_rfc3339(now + timedelta(seconds=self.timeout * ssrf.MAX_ADDRESSES + LEASE_MARGIN_SECONDS))

    def _run(self, ctx: TenantContext, delivery: Delivery, endpoint: Endpoint, n: int, now: datetime, lease: str,
             manual: bool) -> str:
        """Attempt n, claimed under ``lease``: send it, queue the next one if it failed, record the outcome."""
        record, outcome = self._send(delivery, endpoint, n, now, manual)
        next_at = None
        if not outcome.ok and outcome.retry and not manual:
            delay = retry_delay(n, scale=self.retry_scale, rand=self.rand, retry_after=outcome.retry_after)
            if delay is not None:
                delay = max(delay, 1.0)
                next_at = now + timedelta(seconds=delay)
                self.enqueue(attempt_message(delivery, n + 1, to_rfc3339(next_at)), sqs_delay(delay))
        status = "succeeded" if outcome.ok else ("pending" if next_at else "failed")
        if not self._finish(ctx, delivery, n, record, status, next_at, lease=lease):
            return "overtaken"
        metrics.add_metric(name="WebhookAttempts", unit="Count", value=1)
        if not outcome.ok:
            metrics.add_metric(name="WebhookAttemptFailures", unit="Count", value=1)
        if endpoint.enabled:
            self._health(ctx, endpoint, outcome, now)
        return status

    def _send(self, delivery: Delivery, endpoint: Endpoint, n: int, now: datetime, manual: bool
              ) -> tuple[dict[str, Any], Outcome]:
        now_text = to_rfc3339(now)
        secrets = self.box.open_signing([s["sealed"] for s in active_secrets(endpoint.secrets, now_text)])
        headers = {**sign_headers(delivery.webhook_id, now, delivery.body, secrets),
                   "content-type": "application/json", "user-agent": "Linli-Webhooks/1.0"}
        record: dict[str, Any] = {"attempt": n, "at": now_text, "manual": manual}
        status, response_headers, error = None, {}, None
        try:
            target = ssrf.check_url(endpoint.url, https_only=self.https_only, allow_loopback=self.allow_loopback,
                                    resolve=self.resolve)
            response = self.send(target, delivery.body.encode(), headers, timeout=self.timeout,
                                 allow_loopback=self.allow_loopback, read_limit=EXCERPT_BYTES)
        except (ssrf.UnsafeUrl, OSError, http.client.HTTPException) as exc:
            error = describe(exc, self.timeout)
        else:
            status, response_headers = response.status, response.headers
            record.update(status_code=response.status, latency_ms=response.latency_ms,
                          response_excerpt=response.body[:EXCERPT_BYTES].decode("utf-8", errors="replace"))
        outcome = classify(status, response_headers, now, error)
        if not outcome.ok:
            record["error"] = outcome.reason
        logger.info("webhook attempt", extra={"endpoint_id": endpoint.endpoint_id,
                                              "delivery_id": delivery.delivery_id, "attempt": n,
                                              "status_code": status, "ok": outcome.ok})
        return record, outcome

    def _finish(self, ctx: TenantContext, delivery: Delivery, n: int, record: dict[str, Any], status: str,
                next_at: datetime | None, lease: str | None = None) -> bool:
        """Record attempt n's outcome — only while it is still ours (our lease, nothing recorded since)."""
        if self.store.finish_attempt(ctx, delivery, n, record, status, to_rfc3339(next_at) if next_at else None,
                                     lease=lease):
            return True
        logger.warning("webhook attempt outcome overtaken", extra={"delivery_id": delivery.delivery_id, "attempt": n})
        return False

    # --- endpoint health --------------------------------------------------------------------------
    def _health(self, ctx: TenantContext, endpoint: Endpoint, outcome: Outcome, now: datetime) -> None:
        """Whichever attempt moves the endpoint's health first wins; the others leave it be."""
        if outcome.ok:
            if endpoint.failing_since:
                self.store.clear_failing(ctx, endpoint.endpoint_id)
            return
        if outcome.disable_endpoint:
            self._disable(ctx, endpoint, outcome.reason, now)
        elif not endpoint.failing_since:
            self.store.mark_failing(ctx, endpoint.endpoint_id, to_rfc3339(now))
        elif should_auto_disable(from_rfc3339(endpoint.failing_since), now, self.disable_after):
            days = self.disable_after / 86400
            self._disable(ctx, endpoint, f"every delivery failed for {days:g} days", now)

    def _disable(self, ctx: TenantContext, endpoint: Endpoint, reason: str, now: datetime) -> None:
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.store.stage_disable(uow, ctx, endpoint.endpoint_id, reason, to_rfc3339(now),
                                 on_conflict=_DisabledAlreadyError())
        uow.record("webhook.disabled", subject=("webhook", endpoint.endpoint_id),
                   data={"reason": reason, "url": endpoint.url})
        try:
            uow.commit()
        except ConflictError:  # disabled already (_DisabledAlreadyError), or by a concurrent change
            return
        logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint.endpoint_id, "reason": reason})


def _system(tenant_id: str) -> TenantContext:
    return TenantContext(tenant_id, Principal("system", "webhooks"))
