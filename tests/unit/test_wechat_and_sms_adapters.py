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


def _wechat_message(**params):
    return Message(channel="wechat", tenant_id="tnt_1", to="oOpenId", body="工单已处理完成", template="ticket.resolved",
                   params={"app_id": "wx0123456789abcdef", "template_id": "TPL1", "number": "26112700001",
                           "ticket_id": "tkt_1", "summary": "已处理完成", **params})


def test_wechat_subscribe_gets_a_token_once_and_sends_the_template():
    from chalicelib.notifications.channels import WeChatSubscribe

    calls = []

    def post(url, body, headers):
        calls.append((url, json.loads(body)))
        if "stable_token" in url:
            return 200, json.dumps({"access_token": "TOKEN-1", "expires_in": 7200}).encode()
        return 200, json.dumps({"errcode": 0, "msgid": 42}).encode()

    clock = lambda: datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)  # noqa: E731
    client = WeChatSubscribe({"wx0123456789abcdef": "s3cret"}, post=post, clock=clock)
    assert client.send(_wechat_message()) == "42"
    assert client.send(_wechat_message()) == "42"
    token_calls = [c for c in calls if "stable_token" in c[0]]
    assert len(token_calls) == 1 and token_calls[0][1]["appid"] == "wx0123456789abcdef"
    url, body = calls[1]
    assert url == "https://api.weixin.qq.com/cgi-bin/message/subscribe/send?access_token=TOKEN-1"
    assert body["touser"] == "oOpenId" and body["template_id"] == "TPL1"
    assert body["data"]["character_string1"] == {"value": "26112700001"}
    assert body["data"]["thing2"] == {"value": "已处理完成"} and body["data"]["time3"] == {"value": "2026-11-27 09:00"}
    assert body["page"] == "pages/tickets/detail?id=tkt_1"


def test_wechat_subscribe_refreshes_a_stale_token_and_gives_up_on_refusals():
    from chalicelib.notifications.channels import PermanentDeliveryError, WeChatSubscribe

    answers = iter([{"access_token": "OLD", "expires_in": 7200}, {"errcode": 42001},
                    {"access_token": "NEW", "expires_in": 7200}, {"errcode": 0, "msgid": 7},
                    {"errcode": 43101, "errmsg": "user refuse to accept the msg"}])
    urls = []

    def post(url, body, headers):
        urls.append(url)
        return 200, json.dumps(next(answers)).encode()

    client = WeChatSubscribe({"wx0123456789abcdef": "s"}, post=post)
    assert client.send(_wechat_message()) == "7"
    assert urls[3].endswith("access_token=NEW")
    with pytest.raises(PermanentDeliveryError):
        client.send(_wechat_message())
    with pytest.raises(PermanentDeliveryError):
        client.send(_wechat_message(app_id="wx-unknown"))

    def down(url, body, headers):
        raise OSError("unreachable")

    with pytest.raises(DeliveryError):
        WeChatSubscribe({"wx0123456789abcdef": "s"}, post=down).send(_wechat_message())


def test_ses_email_sends_through_sesv2_signed_by_botocore():
    import boto3
    from botocore.stub import Stubber

    from chalicelib.notifications.channels import PermanentDeliveryError, SesEmail

    client = boto3.client("sesv2", region_name="ap-southeast-1", aws_access_key_id="k", aws_secret_access_key="s")
    message = Message(channel="email", tenant_id="tnt_1", to="boss@example.com", body="Webhook 已停用",
                      template="webhook.disabled", subject="Webhook 已停用")
    with Stubber(client) as stub:
        stub.add_response("send_email", {"MessageId": "ses-1"}, {
            "FromEmailAddress": "noreply@linli.example", "Destination": {"ToAddresses": ["boss@example.com"]},
            "Content": {"Simple": {"Subject": {"Data": "Webhook 已停用", "Charset": "UTF-8"},
                                   "Body": {"Text": {"Data": "Webhook 已停用", "Charset": "UTF-8"}}}}})
        assert SesEmail("noreply@linli.example", client=client).send(message) == "ses-1"
        stub.add_client_error("send_email", service_error_code="MessageRejected", http_status_code=400)
        with pytest.raises(PermanentDeliveryError):
            SesEmail("noreply@linli.example", client=client).send(message)
        stub.add_client_error("send_email", service_error_code="TooManyRequestsException", http_status_code=429)
        with pytest.raises(DeliveryError):
            SesEmail("noreply@linli.example", client=client).send(message)
