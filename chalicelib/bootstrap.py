"""Wiring: settings, codecs, repositories and services, each created once per container, lazily."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from functools import lru_cache

from chalicelib.core.auth import TokenCodec
from chalicelib.core.http import Api
from chalicelib.core.settings import Settings, get_settings
from chalicelib.core.tenancy import TenantContext
from chalicelib.storage.table import configure_storage


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
    raise RuntimeError("No JWT signing keys configured: set LINLI_JWT_SECRET_NAME or LINLI_JWT_KEYS")


@lru_cache(maxsize=1)
def token_codec() -> TokenCodec:
    keys, active = keyring()
    return TokenCodec(keys, active, get_settings().access_token_ttl_seconds)


@lru_cache(maxsize=1)
def cursor_codec():  # noqa: ANN201
    from chalicelib.core.pagination import CursorCodec

    keys, active = keyring()
    return CursorCodec(hmac.new(keys[active].encode(), b"linli-cursor", hashlib.sha256).digest())


@lru_cache(maxsize=1)
def tenant_service():  # noqa: ANN201 - imported lazily to keep cold starts small
    from chalicelib.tenants.repository import TenantRepository
    from chalicelib.tenants.service import TenantService

    return TenantService(TenantRepository(cursor_codec()), token_codec(), get_settings())


@lru_cache(maxsize=1)
def resident_service():  # noqa: ANN201
    from chalicelib.residents.repository import ResidentRepository
    from chalicelib.residents.service import ResidentService

    return ResidentService(ResidentRepository(cursor_codec()))


@lru_cache(maxsize=1)
def sms_channel():  # noqa: ANN201
    """The SMS channel: the recording local provider in local stages, Alibaba Cloud SMS elsewhere."""
    from chalicelib.notifications.channels import AliyunSms, LocalOutbox

    settings = get_settings()
    if settings.is_local:
        return LocalOutbox()
    if not settings.sms_secret_name:
        raise RuntimeError("LINLI_SMS_SECRET_NAME is not set")
    from aws_lambda_powertools.utilities.parameters import get_secret

    secret = json.loads(get_secret(settings.sms_secret_name, max_age=300))
    return AliyunSms(secret["access_key_id"], secret["access_key_secret"], secret["sign_name"], secret["templates"])


@lru_cache(maxsize=1)
def resident_login():  # noqa: ANN201
    from chalicelib.residents.login import ResidentLogin
    from chalicelib.residents.repository import ResidentRepository

    return ResidentLogin(ResidentRepository(cursor_codec()), token_codec(), sms_channel(), get_settings(),
                         wechat_auth())


@lru_cache(maxsize=1)
def wechat_auth():  # noqa: ANN201
    """WeChat code → openid: a stable local stand-in in local stages, WeChat's API elsewhere."""
    from chalicelib.residents.wechat import LocalWeChat, WeChatMiniProgram

    settings = get_settings()
    if settings.is_local:
        return LocalWeChat()
    if not settings.wechat_secret_name:
        raise RuntimeError("LINLI_WECHAT_SECRET_NAME is not set")
    from aws_lambda_powertools.utilities.parameters import get_secret

    return WeChatMiniProgram(json.loads(get_secret(settings.wechat_secret_name, max_age=300)))


@lru_cache(maxsize=1)
def ticket_service():  # noqa: ANN201
    from chalicelib.sla.notify import EscalationNotifier
    from chalicelib.tickets.attachments import AttachmentStore
    from chalicelib.tickets.repository import TicketRepository
    from chalicelib.tickets.service import TicketService

    return TicketService(TicketRepository(cursor_codec()), tenant_service(), AttachmentStore(get_settings()),
                         notify=EscalationNotifier(tenant_service(), sms_channel()))


@lru_cache(maxsize=1)
def sqs_client():  # noqa: ANN201
    """One SQS client per container, shared by the dispatcher and every producer."""
    import boto3

    settings = get_settings()
    return boto3.client("sqs", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)


@lru_cache(maxsize=1)
def sla_sweep():  # noqa: ANN201
    from chalicelib.core.queues import sqs_sender
    from chalicelib.sla.timers import SlaSweep

    return SlaSweep(ticket_service().repo, sqs_sender(get_settings().sla_queue_url or "", sqs_client()))


@lru_cache(maxsize=1)
def wechat_channel():  # noqa: ANN201
    """WeChat subscribe messages: the local recorder in local stages, WeChat's API elsewhere (if configured)."""
    settings = get_settings()
    if settings.is_local:
        return sms_channel()
    if not settings.wechat_secret_name:
        return None
    from aws_lambda_powertools.utilities.parameters import get_secret

    from chalicelib.notifications.channels import WeChatSubscribe

    return WeChatSubscribe(json.loads(get_secret(settings.wechat_secret_name, max_age=300)))


@lru_cache(maxsize=1)
def email_channel():  # noqa: ANN201
    """E-mail: the local recorder in local stages, Amazon SES elsewhere (if a sender is configured)."""
    settings = get_settings()
    if settings.is_local:
        return sms_channel()
    if not settings.email_from:
        return None
    from chalicelib.notifications.channels import SesEmail

    return SesEmail(settings.email_from, region=settings.region)


@lru_cache(maxsize=1)
def inbox_store():  # noqa: ANN201
    from chalicelib.notifications.inbox import InboxStore

    return InboxStore(cursor_codec())


@lru_cache(maxsize=1)
def notification_consumer():  # noqa: ANN201
    from chalicelib.core.queues import sqs_sender
    from chalicelib.notifications.consumer import NotificationConsumer

    channels = {name: channel for name, channel in (("sms", sms_channel()), ("wechat", wechat_channel()),
                                                    ("email", email_channel())) if channel is not None}
    return NotificationConsumer(ticket_service(), tenant_service(), resident_service(), channels, inbox_store(),
                                sqs_sender(get_settings().notifications_queue_url or "", sqs_client()))


@lru_cache(maxsize=1)
def secret_box():  # noqa: ANN201
    """Seals webhook secrets under a key derived from the keyring (rotating JWT keys keeps old kids)."""
    from chalicelib.webhooks.signing import SecretBox

    keys, active = keyring()
    return SecretBox(keys, active)


@lru_cache(maxsize=1)
def webhooks_enqueue():  # noqa: ANN201
    from chalicelib.core.queues import sqs_sender

    return sqs_sender(get_settings().webhooks_queue_url or "", sqs_client())


@lru_cache(maxsize=1)
def webhook_service():  # noqa: ANN201
    from chalicelib.webhooks.repository import WebhookRepository
    from chalicelib.webhooks.service import WebhookService

    settings = get_settings()
    return WebhookService(WebhookRepository(cursor_codec()), secret_box(), webhooks_enqueue(),
                          https_only=not settings.is_local, allow_loopback=settings.webhook_allow_loopback)


@lru_cache(maxsize=1)
def webhook_deliverer():  # noqa: ANN201
    from chalicelib.webhooks.delivery import WebhookDeliverer
    from chalicelib.webhooks.repository import WebhookRepository

    settings = get_settings()
    return WebhookDeliverer(WebhookRepository(cursor_codec()), secret_box(), webhooks_enqueue(),
                            https_only=not settings.is_local, allow_loopback=settings.webhook_allow_loopback,
                            retry_scale=settings.webhook_retry_scale, timeout=settings.webhook_timeout_seconds,
                            disable_after_seconds=settings.webhook_disable_after_seconds)


class _Authenticator:
    def authenticate(self, token: str, request_id: str) -> TenantContext:
        return tenant_service().authenticate(token, request_id)


def wire(api: Api, settings: Settings | None = None) -> None:
    """Called once by app.py (and by tests after changing the environment)."""
    configure_storage(settings or get_settings())
    api.authenticator = _Authenticator()


def reset() -> None:
    """Forget every cached singleton (tests change the environment between runs)."""
    get_settings.cache_clear()
    for factory in (sqs_client, keyring, token_codec, cursor_codec, tenant_service, resident_service, sms_channel,
                    resident_login, ticket_service, wechat_auth, sla_sweep, notification_consumer, secret_box,
                    wechat_channel, email_channel, inbox_store,
                    webhooks_enqueue, webhook_service, webhook_deliverer):
        factory.cache_clear()
