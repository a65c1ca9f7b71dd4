"""Notification channels behind one interface.

Real adapters speak their providers' HTTP APIs with the providers' request signing; the
local provider records what would have been sent, for people and tests to read through
``GET /v1/dev/messages`` in the local stage.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from chalicelib.core.clock import to_rfc3339, utcnow

ChannelName = Literal["sms", "wechat", "email", "inbox"]


@dataclass(frozen=True)
class Message:
    channel: ChannelName
    tenant_id: str
    to: str
    body: str
    template: str
    params: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: f"msg_{uuid.uuid4().hex}")
    sent_at: str = field(default_factory=lambda: to_rfc3339(utcnow()))


class DeliveryError(Exception):
    """The provider refused or could not be reached; the caller may retry."""


class Channel(Protocol):
    def send(self, message: Message) -> str: ...


class LocalOutbox:
    """Records messages instead of sending them (local and test stages)."""

    def __init__(self, capacity: int = 1000) -> None:
        self._messages: deque[Message] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def send(self, message: Message) -> str:
        with self._lock:
            self._messages.appendleft(message)
        return message.id

    def messages(self, tenant_id: str | None = None, to: str | None = None) -> list[dict[str, object]]:
        with self._lock:
            found = list(self._messages)
        return [asdict(m) for m in found if (tenant_id is None or m.tenant_id == tenant_id)
                and (to is None or m.to == to)]


HttpPost = Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]


def urllib_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - https only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read()


def _percent(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Alibaba Cloud RPC signature (HMAC-SHA1 over the canonicalised query)."""
    canonical = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{_percent('/')}&{_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """SMS through Alibaba Cloud Short Message Service (``SendSms``), templates approved per tenant."""

    ENDPOINT = "https://dysmsapi.aliyuncs.com/"

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str, templates: dict[str, str],
                 post: HttpPost = urllib_post, clock: Callable[[], datetime] = utcnow) -> None:
        self._key_id, self._secret = access_key_id, access_key_secret
        self._sign_name, self._templates = sign_name, templates
        self._post, self._clock = post, clock

    def request_params(self, message: Message, nonce: str) -> dict[str, str]:
        params = {
            "AccessKeyId": self._key_id, "Action": "SendSms", "Format": "JSON", "PhoneNumbers": message.to,
            "RegionId": "cn-hangzhou", "SignName": self._sign_name, "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce, "SignatureVersion": "1.0", "TemplateCode": self._templates[message.template],
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": self._clock().strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, self._secret)
        return params

    def send(self, message: Message) -> str:
        params = self.request_params(message, uuid.uuid4().hex)
        body = urllib.parse.urlencode(params).encode()
        try:
            status, raw = self._post(self.ENDPOINT, body, {"Content-Type": "application/x-www-form-urlencoded"})
        except OSError as exc:  # unreachable, timed out, TLS: the caller retries
            raise DeliveryError(f"SMS provider unreachable: {type(exc).__name__}") from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise DeliveryError(f"SMS provider answered {status} with a non-JSON body") from exc
        if status != 200 or answer.get("Code") != "OK":
            raise DeliveryError(f"SMS provider refused: {answer.get('Code')}")
        return str(answer.get("BizId", message.id))
