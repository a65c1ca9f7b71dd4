"""WeChat mini-program sign-in: ``code`` → openid through WeChat's ``jscode2session`` API."""
from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Protocol

from chalicelib.core.errors import UnauthenticatedError

HttpGet = Callable[[str], tuple[int, bytes]]


class WeChatError(UnauthenticatedError):
    code = "invalid_wechat_code"
    default_message = "WeChat did not accept this login code; open the mini-program again."


class WeChatAuth(Protocol):
    def openid_for(self, app_id: str, code: str) -> str: ...


def urllib_get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - fixed https endpoint
        return response.status, response.read()


class WeChatMiniProgram:
    """The real client: ``GET https://api.weixin.qq.com/sns/jscode2session``."""

    ENDPOINT = "https://api.weixin.qq.com/sns/jscode2session"

    def __init__(self, app_secrets: dict[str, str], get: HttpGet = urllib_get) -> None:
        self._secrets = app_secrets
        self._get = get

    def url_for(self, app_id: str, code: str) -> str:
        query = {"appid": app_id, "secret": self._secrets[app_id], "js_code": code,
                 "grant_type": "authorization_code"}
        return f"{self.ENDPOINT}?{urllib.parse.urlencode(query)}"

    def openid_for(self, app_id: str, code: str) -> str:
        if app_id not in self._secrets:
            raise WeChatError("This company has no mini-program configured.")
        status, raw = self._get(self.url_for(app_id, code))
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise WeChatError() from exc
        if status != 200 or answer.get("errcode") or not answer.get("openid"):
            raise WeChatError()
        return str(answer["openid"])


class LocalWeChat:
    """Local stand-in: every code maps to a stable openid; the code ``invalid`` is refused like WeChat would."""

    def openid_for(self, app_id: str, code: str) -> str:
        if code == "invalid" or not code:
            raise WeChatError()
        return "o" + hashlib.sha256(f"{app_id}:{code}".encode()).hexdigest()[:27]
