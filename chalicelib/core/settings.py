"""Settings: read once from the environment, validated, then passed in."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, field_validator

Stage = Literal["local", "test", "dev", "prod"]


class Settings(BaseModel):
    """Everything the process needs from its environment.

    Example
    -------
    >>> Settings.from_env({"LINLI_STAGE": "prod", "LINLI_TABLE_NAME": "linli-prod"}).table_name
    'linli-prod'
    """

    model_config = {"frozen": True}

    stage: Stage = "local"
    region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    table_name: str = "linli-local"
    notifications_queue_url: str | None = None
    webhooks_queue_url: str | None = None
    sla_queue_url: str | None = None
    jwt_keys: dict[str, str] = Field(default_factory=dict, repr=False)
    jwt_active_kid: str | None = None
    jwt_secret_name: str | None = None
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    config_cache_seconds: int = 60
    api_key_cache_seconds: int = 60
    max_body_bytes: int = 1024 * 1024
    login_max_failures: int = 5
    resident_token_ttl_seconds: int = 7 * 24 * 3600
    otp_daily_per_phone: int = 10
    otp_daily_per_tenant: int = 5000
    attachments_bucket: str = "linli-local-attachments"
    sms_secret_name: str | None = None
    wechat_secret_name: str | None = None
    login_lock_seconds: int = 900

    @field_validator("jwt_keys")
    @classmethod
    def _keys_are_strong(cls, keys: dict[str, str]) -> dict[str, str]:
        for kid, secret in keys.items():
            if len(secret) < 32:
                raise ValueError(f"JWT key {kid!r} is shorter than 32 characters")
        return keys

    @property
    def is_local(self) -> bool:
        return self.stage in ("local", "test")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        values: dict[str, object] = {
            "stage": get("LINLI_STAGE"),
            "region": get("AWS_REGION") or get("AWS_DEFAULT_REGION"),
            "aws_endpoint_url": get("AWS_ENDPOINT_URL"),
            "table_name": get("LINLI_TABLE_NAME"),
            "notifications_queue_url": get("LINLI_NOTIFICATIONS_QUEUE_URL"),
            "webhooks_queue_url": get("LINLI_WEBHOOKS_QUEUE_URL"),
            "sla_queue_url": get("LINLI_SLA_QUEUE_URL"),
            "jwt_keys": json.loads(get("LINLI_JWT_KEYS") or "{}"),
            "jwt_active_kid": get("LINLI_JWT_ACTIVE_KID"),
            "jwt_secret_name": get("LINLI_JWT_SECRET_NAME"),
            "access_token_ttl_seconds": get("LINLI_ACCESS_TOKEN_TTL_SECONDS"),
            "refresh_token_ttl_seconds": get("LINLI_REFRESH_TOKEN_TTL_SECONDS"),
            "config_cache_seconds": get("LINLI_CONFIG_CACHE_SECONDS"),
            "api_key_cache_seconds": get("LINLI_API_KEY_CACHE_SECONDS"),
            "otp_daily_per_phone": get("LINLI_OTP_DAILY_PER_PHONE"),
            "otp_daily_per_tenant": get("LINLI_OTP_DAILY_PER_TENANT"),
            "attachments_bucket": get("LINLI_ATTACHMENTS_BUCKET"),
            "sms_secret_name": get("LINLI_SMS_SECRET_NAME"),
            "wechat_secret_name": get("LINLI_WECHAT_SECRET_NAME"),
        }
        return cls.model_validate({k: v for k, v in values.items() if v is not None})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from ``os.environ`` once."""
    return Settings.from_env(os.environ)
