"""The composition root: settings, codecs, repositories and services, each created once per container, lazily;
the route modules' ``Provided`` slots filled from here. Nothing in ``chalicelib`` imports this module.

(Over ~350 lines: one small typed factory per collaborator of every context. Kept in one file so the
whole wiring reads top to bottom, context by context.)
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.core.auth import TokenCodec
from chalicelib.core.client_address import ClientAddress
from chalicelib.core.http import Api
from chalicelib.core.settings import Settings, SettingsError, get_settings
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork
from chalicelib.storage.table import configure_storage

if TYPE_CHECKING:  # the factories import their modules on first use (cold starts)
    from botocore.client import BaseClient

    from chalicelib.core.auth import PasswordHasher
    from chalicelib.core.pagination import CursorCodec
    from chalicelib.core.queues import Send
    from chalicelib.core.ratelimit import RequestThrottle
    from chalicelib.events.catalogue import Queue
    from chalicelib.events.dispatcher import SendBatch, TenantsWithWebhooks
    from chalicelib.events.replay import DispatchFailureReplay
    from chalicelib.notifications.channels import Channel
    from chalicelib.notifications.consumer import NotificationConsumer
    from chalicelib.notifications.holds import HoldSweep
    from chalicelib.notifications.inbox import InboxService
    from chalicelib.reports.exports import ExportService, ExportWorker
    from chalicelib.reports.repository import ReportStore
    from chalicelib.reports.service import ReportService, RollupMaintainer
    from chalicelib.residents.imports.jobs import ImportJobs
    from chalicelib.residents.imports.repository import ImportJobRepository
    from chalicelib.residents.imports.worker import ImportWorker
    from chalicelib.residents.login import OtpDelivery, ResidentLogin
    from chalicelib.residents.people import ResidentService
    from chalicelib.residents.places import PlaceService
    from chalicelib.residents.repository import ResidentRepository
    from chalicelib.residents.wechat import WeChatAuth
    from chalicelib.sla.sweep import SlaSweep
    from chalicelib.storage.objects import ObjectStore
    from chalicelib.tenants.access import TenantAccess
    from chalicelib.tenants.api_keys import ApiKeyService
    from chalicelib.tenants.auth import StaffAuth
    from chalicelib.tenants.canned_replies import CannedReplyService
    from chalicelib.tenants.config import TenantConfigs
    from chalicelib.tenants.repository import TenantRepository
    from chalicelib.tenants.sessions import RefreshTokens
    from chalicelib.tenants.staff import StaffService
    from chalicelib.tickets.access import TicketAccess
    from chalicelib.tickets.attachments import AttachmentStore
    from chalicelib.tickets.contact import ResidentContact
    from chalicelib.tickets.intake import TicketIntake
    from chalicelib.tickets.presentation import TicketPresenter
    from chalicelib.tickets.queries import TicketQueries
    from chalicelib.tickets.replies import TicketReplies
    from chalicelib.tickets.repository import TicketRepository
    from chalicelib.tickets.scheduled import TicketSchedules
    from chalicelib.tickets.transitions import TicketTransitions
    from chalicelib.webhooks.delivery import WebhookDeliverer
    from chalicelib.webhooks.repository import WebhookRepository
    from chalicelib.webhooks.service import WebhookService
    from chalicelib.webhooks.signing import SecretBox


@lru_cache(maxsize=1)
def keyring() -> tuple[dict[str, str], str]:
    """JWT signing keys: from settings, else Secrets Manager (deployed stages), else generated (local)."""
    settings = get_settings()
    if settings.jwt_keys:
        return settings.jwt_keys, settings.jwt_active_kid or sorted(settings.jwt_keys)[-1]
    if settings.jwt_secret_name:
        from aws_lambda_powertools.utilities.parameters import get_secret

        document = json.loads(get_secret(settings.jwt_secret_name, max_age=300))
        return document["keys"], document["active_kid"]
    if settings.is_local:
        return {"local": secrets.token_urlsafe(48)}, "local"
    raise SettingsError(f"No JWT signing keys for stage {settings.stage}: "
                        "set LINLI_JWT_SECRET_NAME (or LINLI_JWT_KEYS)")


def origin_verify_values() -> tuple[str, ...]:
    """The origin-verify values the web distribution may send (``core.client_address``): every value of the
    stack's secret, a JSON object ``{label: value}`` — one value, two while it rotates (README, Deploy) — read
    through Powertools' cache (at most every 5 minutes) and only for requests that carry the header; none locally."""
    settings = get_settings()
    if not settings.origin_verify_secret_name:
        return ()
    from aws_lambda_powertools.utilities.parameters import get_secret

    document = get_secret(settings.origin_verify_secret_name, transform="json", max_age=300)
    values = tuple(document.values()) if isinstance(document, dict) else ()
    if not values or not all(isinstance(value, str) and len(value) >= 32 for value in values):
        raise SettingsError("The origin-verify secret must be a JSON object of values of 32 characters or more")
    return values


@lru_cache(maxsize=1)
def token_codec() -> TokenCodec:
    keys, active = keyring()
    return TokenCodec(keys, active, get_settings().access_token_ttl_seconds)


@lru_cache(maxsize=1)
def cursor_codec() -> CursorCodec:
    from chalicelib.core.pagination import CursorCodec

    keys, active = keyring()
    return CursorCodec(hmac.new(keys[active].encode(), b"linli-cursor", hashlib.sha256).digest())


# --- tenants -------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def tenant_repository() -> TenantRepository:
    """Tenants, staff, credentials and API keys in DynamoDB (other contexts read staff through Protocols)."""
    from chalicelib.tenants.repository import TenantRepository

    return TenantRepository(cursor_codec())


@lru_cache(maxsize=1)
def tenant_configs() -> TenantConfigs:
    """Tenant configuration (cached per container), profile, slug → tenant and public branding."""
    from chalicelib.tenants.config import TenantConfigs

    return TenantConfigs(tenant_repository(), unit_of_work, cache_seconds=get_settings().config_cache_seconds)


@lru_cache(maxsize=1)
def api_key_service() -> ApiKeyService:
    from chalicelib.tenants.api_keys import ApiKeyService

    return ApiKeyService(tenant_repository(), unit_of_work, cache_seconds=get_settings().api_key_cache_seconds)


# The embedded stack is one process standing in for every container of a deployed stage: it allows this many
# containers' worth of each limit, so a test suite or a demo never meets them (tests/security/test_fair_share.py
# installs one container's worth to show them).
LOCAL_LIMIT_SCALE = 20


@lru_cache(maxsize=1)
def request_throttle() -> RequestThrottle:
    """The edge's request limits, in this container's memory (``core.ratelimit``)."""
    return build_request_throttle(LOCAL_LIMIT_SCALE if get_settings().is_local else 1)


def build_request_throttle(scale: float = 1) -> RequestThrottle:
    """Fresh buckets with every limit (the plans', per source) times ``scale``; the plan is read from the
    container's tenant cache, never loaded (0 round trips; the default plan until the tenant is cached)."""
    from chalicelib.core.ratelimit import ANONYMOUS_PER_SOURCE, RequestThrottle, TokenBuckets
    from chalicelib.tenants.plans import PLANS, plan_limits

    configs, plans = tenant_configs(), {name: limits.scaled(scale) for name, limits in PLANS.items()}
    default = plan_limits(None).scaled(scale)
    return RequestThrottle(TokenBuckets(), anonymous=ANONYMOUS_PER_SOURCE.scaled(scale),
                           limits_for=lambda tenant_id: plans.get(configs.cached_plan(tenant_id) or "", default))


@lru_cache(maxsize=1)
def password_hasher() -> PasswordHasher:
    """argon2id with the settings' cost profile (``fast`` only in local stages)."""
    from chalicelib.core.auth import PasswordHasher

    return PasswordHasher(get_settings().password_hash_profile)


@lru_cache(maxsize=1)
def staff_auth() -> StaffAuth:
    """Signup, sign-in, refresh, sign-out, and bearer credential → TenantContext."""
    from chalicelib.tenants.auth import StaffAuth

    return StaffAuth(tenant_repository(), tenant_configs(), api_key_service(), token_codec(), unit_of_work,
                     get_settings(), password_hasher(), tenant_access(), refresh_tokens())


@lru_cache(maxsize=1)
def refresh_tokens() -> RefreshTokens:
    """Rotating refresh tokens of staff and residents."""
    from chalicelib.tenants.sessions import RefreshTokens

    return RefreshTokens(tenant_repository(), unit_of_work, ttl_seconds=get_settings().refresh_token_ttl_seconds)


@lru_cache(maxsize=1)
def tenant_access() -> TenantAccess:
    """Cut-off tokens (from the cached tenant) and the actor re-check of administrative changes."""
    from chalicelib.tenants.access import TenantAccess

    settings = get_settings()
    return TenantAccess(tenant_repository(), tenant_configs(), longest_token_seconds=max(
        settings.access_token_ttl_seconds, settings.resident_token_ttl_seconds))


@lru_cache(maxsize=1)
def staff_service() -> StaffService:
    """Staff; their open load read from the tickets' per-staff counters, their names cached like the config."""
    from chalicelib.tenants.staff import StaffService

    return StaffService(tenant_repository(), unit_of_work, password_hasher(), tenant_access(), api_key_service(),
                        ticket_repository(), name_cache_seconds=get_settings().config_cache_seconds)



@lru_cache(maxsize=1)
def canned_reply_service() -> CannedReplyService:
    """The desk's canned replies (the desk's copy cached per container like the tenant's configuration)."""
    from chalicelib.tenants.canned_replies import CannedReplyService

    return CannedReplyService(tenant_repository(), tenant_configs(), unit_of_work, tenant_access(),
                              cache_seconds=get_settings().config_cache_seconds)


@lru_cache(maxsize=1)
def resident_repository() -> ResidentRepository:
    """Communities, buildings, units and residents in DynamoDB (other contexts read them through Protocols)."""
    from chalicelib.residents.repository import ResidentRepository

    return ResidentRepository(cursor_codec())


@lru_cache(maxsize=1)
def place_service() -> PlaceService:
    from chalicelib.residents.places import PlaceService

    return PlaceService(resident_repository(), unit_of_work)


@lru_cache(maxsize=1)
def resident_service() -> ResidentService:
    from chalicelib.residents.people import ResidentService

    return ResidentService(resident_repository(), unit_of_work, place_service(), tenant_access(), refresh_tokens())


@lru_cache(maxsize=1)
def object_store() -> ObjectStore:
    """Files on S3 (the attachments bucket): import uploads, their row copies and error files."""
    from chalicelib.storage.objects import ObjectStore

    settings = get_settings()
    return ObjectStore(settings.attachments_bucket, region=settings.region, endpoint_url=settings.aws_endpoint_url)


@lru_cache(maxsize=1)
def import_job_repository() -> ImportJobRepository:
    from chalicelib.residents.imports.repository import ImportJobRepository

    return ImportJobRepository(cursor_codec())


@lru_cache(maxsize=1)
def import_jobs() -> ImportJobs:
    """Import jobs as the routes see them: uploads, starting, progress, error files (no file is read here)."""
    from chalicelib.residents.imports.jobs import ImportJobs

    return ImportJobs(import_job_repository(), object_store(), unit_of_work)


@lru_cache(maxsize=1)
def imports_enqueue() -> Send:
    """``send(message, delay)`` onto the imports queue: an import job's next chunk."""
    from chalicelib.core.queues import sqs_sender

    return sqs_sender(get_settings().imports_queue_url or "", sqs_client())


def job_worker(body: dict[str, Any], now: datetime) -> None:
    """The jobs queue's messages: a ticket export's one step, else an import job's."""
    if body.get("type") == "export.started":
        export_worker().handle(body, now)
    else:
        import_worker().handle(body, now)


@lru_cache(maxsize=1)
def export_service() -> ExportService:
    from chalicelib.reports.exports import ExportService

    return ExportService(report_store(), object_store(), unit_of_work, place_service().get_community)


def staff_names(ctx: Any) -> dict[str, str]:
    """Every staff member's name by id, page by page (reports: the staff table's CSV, exports)."""
    names: dict[str, str] = {}
    cursor: str | None = None
    while True:
        members, cursor = tenant_repository().list_staff(ctx, 100, cursor)
        names.update({m.user_id: m.name for m in members})
        if not cursor:
            return names


class _ExportTickets:
    """What an export reads of the other contexts: the tickets of a period, names, phones."""

    def tickets(self, tenant_id: str, first_day: str, last_day: str, community_id: str | None,
                kind: str | None) -> Iterator[Any]:
        from datetime import date, time, timedelta
        from zoneinfo import ZoneInfo

        from chalicelib.core.clock import to_rfc3339
        from chalicelib.core.permissions import Permission
        from chalicelib.core.tenancy import Principal, TenantContext
        from chalicelib.tickets.records import QueueFilter

        zone = ZoneInfo(tenant_configs().config(tenant_id).timezone)
        start = datetime.combine(date.fromisoformat(first_day), time(), zone)
        end = datetime.combine(date.fromisoformat(last_day) + timedelta(days=1), time(), zone)
        ctx = TenantContext(tenant_id, Principal("system", "export", None, frozenset(Permission)))
        for bucket in ("open", "resolved", "closed", "cancelled"):
            cursor: str | None = None
            while True:
                page, cursor = ticket_repository().queue(ctx, QueueFilter(
                    bucket=bucket, community_id=community_id, kind=kind, created_from=to_rfc3339(start),
                    created_to=to_rfc3339(end - timedelta(milliseconds=1))), 100, cursor)
                yield from page
                if not cursor:
                    break

    def names(self, ctx: Any) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        return report_service().community_names(ctx), staff_names(ctx), {}

    def phones(self, ctx: Any, resident_ids: list[str]) -> dict[str, str]:
        return resident_repository().phones_of(ctx, resident_ids)


@lru_cache(maxsize=1)
def export_worker() -> ExportWorker:
    from chalicelib.reports.exports import ExportWorker

    return ExportWorker(report_store(), object_store(), _ExportTickets(),
                        lambda tenant_id: {k.key: k.name for k in tenant_configs().config(tenant_id).ticket_kinds})


@lru_cache(maxsize=1)
def import_worker() -> ImportWorker:
    """The imports consumer: reads a job's file once, applies it chunk by chunk, completes the job."""
    from chalicelib.residents.imports.worker import ImportWorker
    from chalicelib.residents.roster import Roster

    return ImportWorker(import_job_repository(), object_store(), Roster(resident_repository(), unit_of_work),
                        unit_of_work, imports_enqueue(), inbox_service())


@lru_cache(maxsize=1)
def report_store() -> ReportStore:
    from chalicelib.reports.repository import ReportStore

    return ReportStore()


@lru_cache(maxsize=1)
def rollup_maintainer() -> RollupMaintainer:
    """The reports consumer: a ticket's event folds its log again and moves the rollups by the difference."""
    from chalicelib.reports.service import RollupMaintainer

    return RollupMaintainer(report_store(), tenant_configs(), every_ticket_id)


def every_ticket_id(tenant_id: str) -> Iterator[str]:
    """Every ticket of a tenant, bucket by bucket through the queue index (the reports' rebuild)."""
    from chalicelib.core.permissions import Permission
    from chalicelib.core.tenancy import Principal, TenantContext
    from chalicelib.tickets.records import QueueFilter

    ctx = TenantContext(tenant_id, Principal("system", "reports_rebuild", None, frozenset(Permission)))
    for bucket in ("open", "resolved", "closed", "cancelled"):
        cursor: str | None = None
        while True:
            page, cursor = ticket_repository().queue(ctx, QueueFilter(bucket=bucket), 100, cursor)
            yield from (ticket.ticket_id for ticket in page)
            if not cursor:
                break


@lru_cache(maxsize=1)
def report_service() -> ReportService:
    from chalicelib.reports.service import ReportService

    return ReportService(report_store(), tenant_configs(), place_service(), ticket_repository(), unit_of_work,
                         staff_names)


@lru_cache(maxsize=1)
def sms_channel() -> Channel:
    """The SMS channel: the recording local provider in the local stage only, Alibaba Cloud SMS elsewhere (a
    deployed stage without its secret refuses to start: never a silent fallback to the recorder)."""
    from chalicelib.notifications.channels import AliyunSms, LocalOutbox

    settings = get_settings()
    if settings.is_local:
        return LocalOutbox()
    if not settings.sms_secret_name:
        raise SettingsError(f"LINLI_SMS_SECRET_NAME is not set: stage {settings.stage} needs the real SMS provider")
    from aws_lambda_powertools.utilities.parameters import get_secret

    secret = json.loads(get_secret(settings.sms_secret_name, max_age=300))
    return AliyunSms(secret["access_key_id"], secret["access_key_secret"], secret["sign_name"], secret["templates"])


@lru_cache(maxsize=1)
def resident_login() -> ResidentLogin:
    from chalicelib.residents.login import ResidentLogin
    from chalicelib.residents.repository import OtpRepository

    return ResidentLogin(resident_repository(), OtpRepository(), token_codec(), notifications_send(), get_settings(),
                         wechat_auth(), unit_of_work, refresh_tokens())


@lru_cache(maxsize=1)
def notifications_send() -> Send:
    """``send(message, delay)`` onto the notifications queue (sign-in codes go this way, never from a request)."""
    from chalicelib.core.queues import sqs_sender

    return sqs_sender(get_settings().notifications_queue_url or "", sqs_client())


@lru_cache(maxsize=1)
def otp_delivery() -> OtpDelivery:
    """Sends the sign-in codes queued by ``ResidentLogin.request_code`` (the notifications consumer's other job)."""
    from chalicelib.residents.login import OtpDelivery

    return OtpDelivery(sms_channel())


@lru_cache(maxsize=1)
def wechat_auth() -> WeChatAuth:
    """WeChat code → openid: a stable local stand-in in the local stage only, WeChat's API elsewhere (a deployed
    stage without its secret refuses to start: never the stand-in)."""
    from chalicelib.residents.wechat import LocalWeChat, WeChatMiniProgram

    settings = get_settings()
    if settings.is_local:
        return LocalWeChat()
    if not settings.wechat_secret_name:
        raise SettingsError(f"LINLI_WECHAT_SECRET_NAME is not set: stage {settings.stage} needs WeChat's API")
    from aws_lambda_powertools.utilities.parameters import get_secret

    return WeChatMiniProgram(json.loads(get_secret(settings.wechat_secret_name, max_age=300)))


# --- tickets and SLA ---------------------------------------------------------------------------------
def unit_of_work(tenant_id: str, actor: dict[str, Any], now: datetime) -> UnitOfWork:
    """The ``UnitOfWorkFactory`` every service takes: one DynamoDB TransactWriteItems per use case."""
    from chalicelib.storage.unit_of_work import UnitOfWork as DynamoUnitOfWork

    return DynamoUnitOfWork(tenant_id, actor, now)


@lru_cache(maxsize=1)
def ticket_repository() -> TicketRepository:
    from chalicelib.tickets.repository import TicketRepository

    return TicketRepository(cursor_codec())


@lru_cache(maxsize=1)
def attachment_store() -> AttachmentStore:
    from chalicelib.tickets.attachments import AttachmentStore

    return AttachmentStore(get_settings())


@lru_cache(maxsize=1)
def ticket_access() -> TicketAccess:
    from chalicelib.tickets.access import TicketAccess

    return TicketAccess(ticket_repository(), tenant_configs())


@lru_cache(maxsize=1)
def ticket_presenter() -> TicketPresenter:
    from chalicelib.tickets.presentation import TicketPresenter

    return TicketPresenter(tenant_configs(), attachment_store())


@lru_cache(maxsize=1)
def ticket_intake() -> TicketIntake:
    from chalicelib.tickets.intake import TicketIntake

    return TicketIntake(ticket_repository(), tenant_configs(), resident_repository(), attachment_store(),
                        ticket_presenter(), unit_of_work)


@lru_cache(maxsize=1)
def ticket_transitions() -> TicketTransitions:
    from chalicelib.tickets.transitions import TicketTransitions

    return TicketTransitions(ticket_repository(), tenant_configs(), tenant_repository(), ticket_access(),
                             ticket_presenter(), unit_of_work)


@lru_cache(maxsize=1)
def ticket_queries() -> TicketQueries:
    from chalicelib.tickets.queries import TicketQueries

    return TicketQueries(ticket_repository(), ticket_access(), ticket_presenter())


@lru_cache(maxsize=1)
def ticket_replies() -> TicketReplies:
    """Canned replies rendered for a ticket: replies, staff names and config from caches, names in one read."""
    from chalicelib.tickets.replies import TicketReplies

    return TicketReplies(ticket_access(), tenant_configs(), canned_reply_service(), staff_service(),
                         resident_repository())


@lru_cache(maxsize=1)
def resident_contact() -> ResidentContact:
    """The audited reveal of a ticket's resident's full phone (the residents' store through a Protocol)."""
    from chalicelib.tickets.contact import ResidentContact

    return ResidentContact(ticket_access(), resident_repository(), unit_of_work)


@lru_cache(maxsize=1)
def ticket_schedules() -> TicketSchedules:
    from chalicelib.tickets.scheduled import TicketSchedules

    return TicketSchedules(ticket_repository(), ticket_transitions(), unit_of_work)


@lru_cache(maxsize=1)
def sqs_client() -> BaseClient:
    """One SQS client per container, shared by the dispatcher and every producer."""
    import boto3

    settings = get_settings()
    return boto3.client("sqs", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)


@lru_cache(maxsize=1)
def sla_check_sender() -> Send:
    """``send(check, delay)`` onto the SLA queue: the sweep schedules checks, the consumer re-queues early ones."""
    from chalicelib.core.queues import sqs_sender

    return sqs_sender(get_settings().sla_queue_url or "", sqs_client())


@lru_cache(maxsize=1)
def sla_sweep() -> SlaSweep:
    from chalicelib.sla.repository import SweepStateRepository
    from chalicelib.sla.sweep import SlaSweep

    return SlaSweep(ticket_repository(), SweepStateRepository(), sla_check_sender())


@lru_cache(maxsize=1)
def hold_sweep() -> HoldSweep:
    """Held notifications (quiet hours) back on the notifications queue as their window ends."""
    from chalicelib.notifications.holds import HoldSweep
    from chalicelib.notifications.repository import HoldRepository
    from chalicelib.sla.repository import HOLD_SWEEP_PK, SweepStateRepository

    return HoldSweep(HoldRepository(), SweepStateRepository(HOLD_SWEEP_PK), notifications_send())


# --- notifications, webhooks and the outbox relay ------------------------------------------------------


@lru_cache(maxsize=1)
def wechat_channel() -> Channel | None:
    """WeChat subscribe messages: the local recorder in the local stage only, WeChat's API elsewhere (if
    configured; without it a deployed stage has no WeChat channel, never the recorder)."""
    settings = get_settings()
    if settings.is_local:
        return sms_channel()
    if not settings.wechat_secret_name:
        return None
    from aws_lambda_powertools.utilities.parameters import get_secret

    from chalicelib.notifications.channels import WeChatSubscribe

    return WeChatSubscribe(json.loads(get_secret(settings.wechat_secret_name, max_age=300)))


@lru_cache(maxsize=1)
def email_channel() -> Channel | None:
    """E-mail: the local recorder in the local stage only, Amazon SES elsewhere (if a sender is configured;
    without one a deployed stage sends no e-mail, never to the recorder)."""
    settings = get_settings()
    if settings.is_local:
        return sms_channel()
    if not settings.email_from:
        return None
    from chalicelib.notifications.channels import SesEmail

    return SesEmail(settings.email_from, region=settings.region)


@lru_cache(maxsize=1)
def inbox_service() -> InboxService:
    """Everyone's in-app inbox and notification preferences."""
    from chalicelib.notifications.inbox import InboxService
    from chalicelib.notifications.repository import InboxRepository

    return InboxService(InboxRepository(cursor_codec()), unit_of_work)


@lru_cache(maxsize=1)
def notification_consumer() -> NotificationConsumer:
    """Outbox events → the tenant's rules → SMS, WeChat, e-mail and the inbox (reads other contexts by Protocol)."""
    from chalicelib.notifications.audience import Audience
    from chalicelib.notifications.consumer import NotificationConsumer
    from chalicelib.notifications.repository import ClaimRepository, HoldRepository
    from chalicelib.tenants.domain import default_ticket_kinds

    channels = {name: channel for name, channel in (("sms", sms_channel()), ("wechat", wechat_channel()),
                                                    ("email", email_channel())) if channel is not None}
    return NotificationConsumer(ticket_repository(), tenant_configs(),
                                Audience(tenant_repository(), resident_repository()), channels, inbox_service(),
                                ClaimRepository(), notifications_send(), HoldRepository(),
                                fallback_kinds=default_ticket_kinds())


@lru_cache(maxsize=1)
def secret_box() -> SecretBox:
    """Seals webhook secrets by envelope encryption under the secrets KMS key (one KMS client per container),
    independent of the JWT keyring; secrets sealed under the keyring before are still read while their key exists."""
    import boto3

    from chalicelib.webhooks.signing import SecretBox

    settings = get_settings()
    kms = boto3.client("kms", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)
    return SecretBox(kms, settings.secrets_kms_key, legacy_keys=lambda: keyring()[0])


@lru_cache(maxsize=1)
def webhooks_enqueue() -> Send:
    from chalicelib.core.queues import sqs_sender

    return sqs_sender(get_settings().webhooks_queue_url or "", sqs_client())


@lru_cache(maxsize=1)
def webhook_repository() -> WebhookRepository:
    from chalicelib.webhooks.repository import WebhookRepository

    return WebhookRepository(cursor_codec())


@lru_cache(maxsize=1)
def webhook_service() -> WebhookService:
    """A tenant's webhook endpoints, secrets, delivery log, retries and pings."""
    from chalicelib.webhooks.service import WebhookService

    settings = get_settings()
    return WebhookService(webhook_repository(), unit_of_work, secret_box(), webhooks_enqueue(),
                          check_actor=tenant_access().stage_actor_check,
                          https_only=not settings.is_local, allow_loopback=settings.webhook_allow_loopback)


@lru_cache(maxsize=1)
def webhook_deliverer() -> WebhookDeliverer:
    """Events → one delivery per matching endpoint → signed attempts with leases and retries."""
    from chalicelib.webhooks.delivery import WebhookDeliverer

    settings = get_settings()
    return WebhookDeliverer(webhook_repository(), unit_of_work, secret_box(), webhooks_enqueue(),
                            https_only=not settings.is_local, allow_loopback=settings.webhook_allow_loopback,
                            retry_scale=settings.webhook_retry_scale, timeout=settings.webhook_timeout_seconds,
                            disable_after_seconds=settings.webhook_disable_after_seconds)


def event_queue_urls() -> dict[Queue, str | None]:
    """Where the outbox relay sends each queue's events (read from the settings on each batch)."""
    from chalicelib.events.dispatcher import queue_urls

    return queue_urls(get_settings())


@lru_cache(maxsize=1)
def tenants_with_webhooks() -> TenantsWithWebhooks:
    """The outbox relay's question, once per stream batch: which of these tenants have a webhook endpoint now (a
    yes remembered for a minute in the container, a no asked again)."""
    from chalicelib.events.dispatcher import HookedTenants

    return HookedTenants(webhook_repository().tenants_with_endpoints)


@lru_cache(maxsize=1)
def sqs_send_batch() -> SendBatch:
    """``send_batch(queue_url, entries)`` for the outbox relay, over the container's SQS client."""
    from chalicelib.events.dispatcher import batch_sender

    return batch_sender(sqs_client())


@lru_cache(maxsize=1)
def dispatch_failure_replay() -> DispatchFailureReplay:
    """The outbox relay's dead letters (stream batches it gave up on) → the relay again: read back from the stream,
    else from the outbox items, and sent through the same ``dispatch`` (an operator's command; consumers dedupe)."""
    import boto3

    from chalicelib.events.dispatcher import dispatch
    from chalicelib.events.replay import DispatchFailureReplay, SqsDeadLetters, StreamBatches
    from chalicelib.events.repository import OutboxRepository

    settings = get_settings()
    if not settings.dispatch_failures_queue_url:
        raise SettingsError("LINLI_DISPATCH_FAILURES_QUEUE_URL is not set: there is no dead-letter queue to replay")
    streams = boto3.client("dynamodbstreams", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)
    letters = SqsDeadLetters(sqs_client(), settings.dispatch_failures_queue_url,
                             wait_seconds=0 if settings.is_local else 1)  # the emulator's short poll sees all
    return DispatchFailureReplay(letters, StreamBatches(streams), OutboxRepository(),
                                 lambda batch: dispatch(batch, urls=event_queue_urls(), send_batch=sqs_send_batch(),
                                                        tenants_with_webhooks=tenants_with_webhooks()))


class _Authenticator:
    def authenticate(self, token: str, request_id: str) -> TenantContext:
        return staff_auth().authenticate(token, request_id)


class _Throttle:
    def check_source(self, route: str, source_ip: str) -> None:
        request_throttle().check_source(route, source_ip)

    def check_principal(self, ctx: TenantContext) -> None:
        request_throttle().check_principal(ctx)


# --- route wiring: each context's section fills its route modules' Provided slots ------------------
def _wire_tenants() -> None:
    from chalicelib.tenants import api as tenants_api

    tenants_api.tenant_configs.provide(tenant_configs)
    tenants_api.staff_auth.provide(staff_auth)
    tenants_api.staff.provide(staff_service)
    tenants_api.api_keys.provide(api_key_service)
    tenants_api.resident_profiles.provide(resident_service)
    tenants_api.canned_replies.provide(canned_reply_service)


def _wire_residents() -> None:
    from chalicelib.residents import api as residents_api
    from chalicelib.residents import login_api
    from chalicelib.residents.imports import api as imports_api

    residents_api.places.provide(place_service)
    residents_api.residents.provide(resident_service)
    imports_api.jobs.provide(import_jobs)
    login_api.login.provide(resident_login)
    login_api.tenants.provide(tenant_configs)


def _wire_tickets() -> None:
    from chalicelib.tickets import api as tickets_api

    tickets_api.intake.provide(ticket_intake)
    tickets_api.transitions.provide(ticket_transitions)
    tickets_api.queries.provide(ticket_queries)
    tickets_api.replies.provide(ticket_replies)
    tickets_api.contact.provide(resident_contact)


def _wire_notifications_and_webhooks() -> None:
    from chalicelib.notifications import api as notifications_api
    from chalicelib.webhooks import api as webhooks_api

    notifications_api.inbox.provide(inbox_service)
    webhooks_api.webhooks.provide(webhook_service)
    if get_settings().serves_dev_routes:  # the recorded messages' route: local stage on loopback only (app.py)
        from chalicelib.notifications import dev_api

        dev_api.tenants.provide(tenant_configs)
        dev_api.outbox.provide(sms_channel)  # type: ignore[arg-type] - locally, the recording LocalOutbox


def _wire_reports() -> None:
    from chalicelib.reports import api as reports_api

    reports_api.reports.provide(report_service)
    reports_api.exports.provide(export_service)


def wire(api: Api, settings: Settings | None = None) -> None:
    """Called once by app.py (and by tests after changing the environment)."""
    configure_storage(settings or get_settings())
    api.authenticator = _Authenticator()
    api.throttle = _Throttle()
    api.client_address = ClientAddress(origin_verify_values)
    for wire_context in (_wire_tenants, _wire_residents, _wire_tickets, _wire_notifications_and_webhooks,
                         _wire_reports):
        wire_context()


def reset() -> None:
    """Forget every cached singleton (tests change the environment between runs)."""
    get_settings.cache_clear()
    for factory in list(globals().values()):
        if callable(getattr(factory, "cache_clear", None)):
            factory.cache_clear()
