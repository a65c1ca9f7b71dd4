"""Settings: read once from the environment, validated, then passed in.

A plain dataclass rather than a pydantic model: every cold start reads it, so it stays cheap.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache

STAGES = ("local", "dev", "prod")
LOCAL_STAGE = "local"  # the only stage that may use local providers (recorded messages, the WeChat stand-in)
LISTEN_MODES = ("any", "loopback")  # "loopback": the API is reachable from this machine only (the embedded stack)


class SettingsError(ValueError):
    """The environment does not describe a runnable configuration."""


@dataclass(frozen=True)
class Settings:
    """Everything the process needs from its environment.

    Example
    -------
    >>> Settings.from_env({"LINLI_STAGE": "prod", "LINLI_TABLE_NAME": "linli-prod"}).table_name
    'linli-prod'
    >>> Settings.from_env({})
    Traceback (most recent call last):
    ...
    chalicelib.core.settings.SettingsError: LINLI_STAGE is not set; set it to one of local, dev, prod
    """

    stage: str = "local"
    region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    table_name: str = "linli-local"
    notifications_queue_url: str | None = None
    webhooks_queue_url: str | None = None
    sla_queue_url: str | None = None
    imports_queue_url: str | None = None  # the import jobs' steps (reading a file, applying a chunk)
    reports_queue_url: str | None = None  # ticket events for the KPI rollups
    dispatch_failures_queue_url: str | None = None  # the outbox relay's on-failure destination (dead letters)
    jwt_keys: dict[str, str] = field(default_factory=dict, repr=False)
    jwt_active_kid: str | None = None
    jwt_secret_name: str | None = None
    secrets_kms_key: str = "alias/linli-local-secrets"  # the KMS key (id, ARN or alias) that seals webhook secrets
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    config_cache_seconds: int = 60
    api_key_cache_seconds: int = 60
    max_body_bytes: int = 1024 * 1024
    login_max_failures: int = 5
    resident_token_ttl_seconds: int = 3600  # short: a resident's refresh token keeps them signed in
    otp_per_phone_window: int = 5      # codes per phone per OTP window (15 min): a nuisance bound, never a lock-out
    otp_per_source_window: int = 20    # codes asked for from one address per OTP window
    otp_daily_per_tenant: int = 5000   # codes sent to residents per tenant per day (the SMS bill's guard)
    attachments_bucket: str = "linli-local-attachments"
    sms_secret_name: str | None = None
    wechat_secret_name: str | None = None
    # the web distribution's origin-verify values (JSON {label: value}); requests carrying one are trusted for the
    # viewer's address (core.client_address). Unset (locally): every request keys on API Gateway's sourceIp
    origin_verify_secret_name: str | None = None
    email_from: str | None = None
    login_lock_seconds: int = 900
    webhook_allow_loopback: bool = False
    webhook_retry_scale: float = 1.0
    webhook_timeout_seconds: int = 15
    webhook_disable_after_seconds: int = 5 * 86400
    password_hash_profile: str = "standard"
    listen: str = "any"

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise SettingsError(f"LINLI_STAGE must be one of {', '.join(STAGES)} (got {self.stage!r})")
        if self.listen not in LISTEN_MODES:
            raise SettingsError(f"LINLI_LISTEN must be one of {', '.join(LISTEN_MODES)}")
        if self.listen == "loopback" and not self.is_local:
            raise SettingsError("LINLI_LISTEN=loopback is for the local stage only")
        if self.webhook_allow_loopback and not self.serves_dev_routes:
            raise SettingsError("LINLI_WEBHOOK_ALLOW_LOOPBACK is for the local stage listening on loopback only "
                                "(LINLI_STAGE=local, LINLI_LISTEN=loopback)")
        if self.password_hash_profile not in ("standard", "fast"):
            raise SettingsError("LINLI_PASSWORD_HASH_PROFILE must be standard or fast")
        if self.password_hash_profile != "standard" and not self.is_local:
            raise SettingsError("LINLI_PASSWORD_HASH_PROFILE=fast is for the local stage only")
        for kid, secret in self.jwt_keys.items():
            if len(secret) < 32:
                raise SettingsError(f"JWT key {kid!r} is shorter than 32 characters")

    @property
    def is_local(self) -> bool:
        """Only ``local`` may use local providers; every other stage is deployed and needs the real ones."""
        return self.stage == LOCAL_STAGE

    @property
    def serves_dev_routes(self) -> bool:
        """The dev-only routes (``/v1/dev/messages``) and loopback webhooks: local *and* reachable from loopback only
        (the embedded stack binds 127.0.0.1 and says so with ``LINLI_LISTEN=loopback``)."""
        return self.is_local and self.listen == "loopback"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        names = {
            "stage": "LINLI_STAGE", "aws_endpoint_url": "AWS_ENDPOINT_URL", "table_name": "LINLI_TABLE_NAME",
            "notifications_queue_url": "LINLI_NOTIFICATIONS_QUEUE_URL",
            "webhooks_queue_url": "LINLI_WEBHOOKS_QUEUE_URL",
            "sla_queue_url": "LINLI_SLA_QUEUE_URL", "dispatch_failures_queue_url": "LINLI_DISPATCH_FAILURES_QUEUE_URL",
            "imports_queue_url": "LINLI_IMPORTS_QUEUE_URL",
            "reports_queue_url": "LINLI_REPORTS_QUEUE_URL",
            "jwt_active_kid": "LINLI_JWT_ACTIVE_KID",
            "jwt_secret_name": "LINLI_JWT_SECRET_NAME", "secrets_kms_key": "LINLI_SECRETS_KMS_KEY",
            "access_token_ttl_seconds": "LINLI_ACCESS_TOKEN_TTL_SECONDS",
            "refresh_token_ttl_seconds": "LINLI_REFRESH_TOKEN_TTL_SECONDS",
            "config_cache_seconds": "LINLI_CONFIG_CACHE_SECONDS",
            "api_key_cache_seconds": "LINLI_API_KEY_CACHE_SECONDS",
            "otp_per_phone_window": "LINLI_OTP_PER_PHONE_WINDOW",
            "otp_per_source_window": "LINLI_OTP_PER_SOURCE_WINDOW",
            "otp_daily_per_tenant": "LINLI_OTP_DAILY_PER_TENANT",
            "attachments_bucket": "LINLI_ATTACHMENTS_BUCKET", "sms_secret_name": "LINLI_SMS_SECRET_NAME",
            "wechat_secret_name": "LINLI_WECHAT_SECRET_NAME", "email_from": "LINLI_EMAIL_FROM",
            "origin_verify_secret_name": "LINLI_ORIGIN_VERIFY_SECRET_NAME",
            "webhook_allow_loopback": "LINLI_WEBHOOK_ALLOW_LOOPBACK",
            "webhook_retry_scale": "LINLI_WEBHOOK_RETRY_SCALE",
            "webhook_timeout_seconds": "LINLI_WEBHOOK_TIMEOUT_SECONDS",
            "webhook_disable_after_seconds": "LINLI_WEBHOOK_DISABLE_AFTER_SECONDS",
            "password_hash_profile": "LINLI_PASSWORD_HASH_PROFILE", "listen": "LINLI_LISTEN",
        }
        if not (env.get("LINLI_STAGE") or "").strip():
            raise SettingsError(f"LINLI_STAGE is not set; set it to one of {', '.join(STAGES)}")
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        for attribute, variable in names.items():
            raw = env.get(variable)
            if raw in (None, ""):
                continue
            if types[attribute] in ("int", "float"):
                try:
                    values[attribute] = int(raw) if types[attribute] == "int" else float(raw)
                except ValueError as exc:
                    raise SettingsError(f"{variable} must be a number") from exc
            elif types[attribute] == "bool":
                if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
                    raise SettingsError(f"{variable} must be true or false")
                values[attribute] = raw.lower() in ("1", "true", "yes")
            else:
                values[attribute] = raw
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            values["region"] = region
        if env.get("LINLI_JWT_KEYS"):
            try:
                keys = json.loads(env["LINLI_JWT_KEYS"])
            except ValueError as exc:
                raise SettingsError("LINLI_JWT_KEYS must be a JSON object {kid: secret}") from exc
            if not isinstance(keys, dict):
                raise SettingsError("LINLI_JWT_KEYS must be a JSON object {kid: secret}")
            values["jwt_keys"] = {str(k): str(v) for k, v in keys.items()}
        return cls(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from ``os.environ`` once."""
    return Settings.from_env(os.environ)
