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
    subject: str = ""
    id: str = field(default_factory=lambda: f"msg_{uuid.uuid4().hex}")
    sent_at: str = field(default_factory=lambda: to_rfc3339(utcnow()))


class DeliveryError(Exception):
    """The provider refused or could not be reached; the caller may retry."""


class PermanentDeliveryError(DeliveryError):
    """The provider will never take this message (the user unsubscribed, the address is invalid): don't retry."""


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
        if message.template not in self._templates:
            raise PermanentDeliveryError(f"no approved SMS template for {message.template}")
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


class WeChatSubscribe:
    """WeChat mini-program subscribe messages (``subscribe/send``), one mini-program per tenant.

    WeChat authenticates with an access token from ``cgi-bin/stable_token`` (app id + secret),
    cached until shortly before it expires and refreshed once when WeChat says it is stale.
    The tenant's template has three fields: ``character_string1`` (ticket number), ``thing2``
    (what happened, ≤ 20 characters) and ``time3``.
    """

    TOKEN_URL = "https://api.weixin.qq.com/cgi-bin/stable_token"
    SEND_URL = "https://api.weixin.qq.com/cgi-bin/message/subscribe/send?access_token="
    STALE_TOKEN = frozenset({40001, 40014, 42001})
    REFUSED = frozenset({43101, 40003, 47003})  # user refused / unknown openid / bad data: retrying won't help

    def __init__(self, app_secrets: dict[str, str], post: HttpPost = urllib_post,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._secrets, self._post, self._clock = app_secrets, post, clock
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def _call(self, url: str, payload: dict[str, object]) -> dict[str, object]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            status, raw = self._post(url, body, {"Content-Type": "application/json"})
            answer = json.loads(raw)
        except OSError as exc:
            raise DeliveryError(f"WeChat unreachable: {type(exc).__name__}") from exc
        except ValueError as exc:
            raise DeliveryError("WeChat answered with a non-JSON body") from exc
        if status != 200 or not isinstance(answer, dict):
            raise DeliveryError(f"WeChat answered {status}")
        return answer

    def _token(self, app_id: str, *, fresh: bool = False) -> str:
        from datetime import timedelta

        with self._lock:
            cached = self._tokens.get(app_id)
            if cached and not fresh and cached[1] > self._clock():
                return cached[0]
        if app_id not in self._secrets:
            raise PermanentDeliveryError("no secret for this mini-program")
        answer = self._call(self.TOKEN_URL, {"grant_type": "client_credential", "appid": app_id,
                                             "secret": self._secrets[app_id], "force_refresh": fresh})
        token = answer.get("access_token")
        if not token:
            raise DeliveryError(f"WeChat refused a token: {answer.get('errcode')}")
        expires = self._clock() + timedelta(seconds=max(60, int(answer.get("expires_in", 7200)) - 300))
        with self._lock:
            self._tokens[app_id] = (str(token), expires)
        return str(token)

    def payload(self, message: Message) -> dict[str, object]:
        when = message.params.get("time") or self._clock().strftime("%Y-%m-%d %H:%M")
        return {"touser": message.to, "template_id": message.params["template_id"],
                "page": message.params.get("page", "pages/tickets/detail?id=" + message.params.get("ticket_id", "")),
                "lang": "zh_CN", "data": {"character_string1": {"value": message.params.get("number", "")[:32]},
                                          "thing2": {"value": message.params.get("summary", message.body)[:20]},
                                          "time3": {"value": when}}}

    def send(self, message: Message) -> str:
        app_id = message.params.get("app_id", "")
        payload = self.payload(message)
        for fresh in (False, True):
            answer = self._call(self.SEND_URL + self._token(app_id, fresh=fresh), payload)
            code = int(answer.get("errcode") or 0)
            if code == 0:
                return str(answer.get("msgid", message.id))
            if code in self.REFUSED:
                raise PermanentDeliveryError(f"WeChat refused the message: {code}")
            if code not in self.STALE_TOKEN:
                raise DeliveryError(f"WeChat refused the message: {code}")
        raise DeliveryError("WeChat kept refusing the access token")


class SesEmail:
    """E-mail through Amazon SES v2 (``SendEmail``); botocore signs every request with SigV4."""

    def __init__(self, sender: str, client: object | None = None, region: str | None = None) -> None:
        self._sender, self._client, self._region = sender, client, region

    def _ses(self):  # noqa: ANN202
        if self._client is None:
            import boto3

            self._client = boto3.client("sesv2", region_name=self._region)
        return self._client

    def send(self, message: Message) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._ses().send_email(
                FromEmailAddress=self._sender, Destination={"ToAddresses": [message.to]},
                Content={"Simple": {"Subject": {"Data": message.subject or message.body[:60], "Charset": "UTF-8"},
                                    "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}}}})
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException"):
                raise PermanentDeliveryError(f"SES refused the message: {code}") from exc
            raise DeliveryError(f"SES failed: {code}") from exc
        except BotoCoreError as exc:
            raise DeliveryError(f"SES unreachable: {type(exc).__name__}") from exc
        return str(answer.get("MessageId", message.id))
