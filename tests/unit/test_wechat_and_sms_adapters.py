"""The real channel adapters build their providers' requests correctly (transport faked, no network)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from datetime import datetime, timezone

import pytest

from chalicelib.notifications.channels import AliyunSms, DeliveryError, LocalOutbox, Message, aliyun_signature
from chalicelib.residents.wechat import LocalWeChat, WeChatError, WeChatMiniProgram


def test_wechat_client_calls_jscode2session_and_reads_the_openid():
    seen = []

    def get(url):
        seen.append(url)
        return 200, json.dumps({"openid": "oABC", "session_key": "k"}).encode()

    client = WeChatMiniProgram({"wx0123456789abcdef": "s3cret"}, get=get)
    assert client.openid_for("wx0123456789abcdef", "code-1") == "oABC"
    query = urllib.parse.parse_qs(urllib.parse.urlparse(seen[0]).query)
    assert seen[0].startswith("https://api.weixin.qq.com/sns/jscode2session?")
    assert query == {"appid": ["wx0123456789abcdef"], "secret": ["s3cret"], "js_code": ["code-1"],
                     "grant_type": ["authorization_code"]}


@pytest.mark.parametrize("answer", [{"errcode": 40029, "errmsg": "invalid code"}, {}, "not json"])
def test_wechat_errors_become_401(answer):
    body = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
    client = WeChatMiniProgram({"wx0123456789abcdef": "s"}, get=lambda url: (200, body))
    with pytest.raises(WeChatError):
        client.openid_for("wx0123456789abcdef", "c")
    with pytest.raises(WeChatError):
        client.openid_for("wx-unknown", "c")


def test_local_wechat_is_stable():
    assert LocalWeChat().openid_for("local", "a") == LocalWeChat().openid_for("local", "a")
    assert LocalWeChat().openid_for("local", "a") != LocalWeChat().openid_for("local", "b")


def test_aliyun_signature_matches_the_documented_algorithm():
    params = {"AccessKeyId": "testid", "Action": "SendSms", "PhoneNumbers": "13800000000", "SignName": "邻里"}
    canonical = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                         for k, v in sorted(params.items()))
    to_sign = "POST&%2F&" + urllib.parse.quote(canonical, safe="-_.~")
    expected = base64.b64encode(hmac.new(b"testsecret&", to_sign.encode(), hashlib.sha1).digest()).decode()
    assert aliyun_signature(params, "testsecret") == expected


def test_aliyun_sms_posts_a_signed_send_sms_request():
    posted = []

    def post(url, body, headers):
        posted.append((url, urllib.parse.parse_qs(body.decode())))
        return 200, b'{"Code": "OK", "BizId": "biz-1"}'

    sms = AliyunSms("id", "secret", "邻里物业", {"otp": "SMS_123"}, post=post,
                    clock=lambda: datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc))
    message = Message(channel="sms", tenant_id="tnt_1", to="13800000000", body="…", template="otp",
                      params={"code": "123456"})
    assert sms.send(message) == "biz-1"
    url, form = posted[0]
    assert url == "https://dysmsapi.aliyuncs.com/"
    assert form["TemplateCode"] == ["SMS_123"] and form["TemplateParam"] == ['{"code":"123456"}']
    assert form["Timestamp"] == ["2026-11-27T08:00:00Z"]
    unsigned = {k: v[0] for k, v in form.items() if k != "Signature"}
    assert form["Signature"] == [aliyun_signature(unsigned, "secret")]


def test_aliyun_refusal_is_a_delivery_error():
    sms = AliyunSms("id", "secret", "s", {"otp": "SMS_1"}, post=lambda *a: (200, b'{"Code": "isv.BUSINESS_LIMIT"}'))
    with pytest.raises(DeliveryError):
        sms.send(Message(channel="sms", tenant_id="t", to="13800000000", body="x", template="otp"))


def test_local_outbox_records_newest_first_and_filters():
    outbox = LocalOutbox()
    for n in range(3):
        outbox.send(Message(channel="sms", tenant_id="t1" if n < 2 else "t2", to=f"1380000000{n}", body=str(n),
                            template="otp"))
    assert [m["body"] for m in outbox.messages()] == ["2", "1", "0"]
    assert [m["body"] for m in outbox.messages(tenant_id="t1")] == ["1", "0"]
    assert [m["body"] for m in outbox.messages(to="13800000000")] == ["0"]
