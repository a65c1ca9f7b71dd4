"""Pure core helpers: tokens, cursors, ids, redaction, permissions, event routing, filters."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from chalicelib.core.auth import PasswordHasher, TokenCodec, digest
from chalicelib.core.errors import InvalidCursorError, UnauthenticatedError
from chalicelib.core.ids import new_id, sortable_token
from chalicelib.core.observability import redact
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.permissions import API_KEY_SCOPES, ROLE_PERMISSIONS, Permission, Role
from chalicelib.events.catalogue import Queue, queues_for
from devstack.emulator import matches

NOW = datetime.now(timezone.utc)  # the codecs below check expiry against NOW, not the wall clock
KEYS = {"2026-a": "a" * 64, "2026-b": "b" * 64}


def test_tokens_verify_and_carry_tenant_role_and_kid():
    codec = TokenCodec(KEYS, "2026-b", ttl_seconds=900, clock=lambda: NOW)
    token = codec.issue(tenant_id="tnt_1", subject="usr_1", kind="staff", role="agent", now=NOW)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": "2026-b", "typ": "JWT"}
    claims = codec.verify(token)
    assert (claims.tenant_id, claims.subject, claims.kind, claims.role) == ("tnt_1", "usr_1", "staff", "agent")


def test_a_residents_token_carries_their_name_and_masked_phone_only_as_strings():
    codec = TokenCodec(KEYS, "2026-b", ttl_seconds=900, clock=lambda: NOW)
    token = codec.issue(tenant_id="tnt_1", subject="res_1", kind="resident", role=None, now=NOW, units=[],
                        name="陈阿姨", phone_hint="138****0001")
    claims = codec.verify(token)
    assert (claims.name, claims.phone_hint) == ("陈阿姨", "138****0001")
    odd = jwt.encode({"iss": "linli", "sub": "res_1", "tid": "tnt_1", "typ": "resident", "iat": int(NOW.timestamp()),
                      "exp": int((NOW + timedelta(minutes=5)).timestamp()), "nm": ["x"], "ph": 13800000001},
                     KEYS["2026-b"], "HS256", {"kid": "2026-b"})
    assert (codec.verify(odd).name, codec.verify(odd).phone_hint) == (None, None)


def test_rotation_keeps_old_kids_valid_until_removed():
    old = TokenCodec(KEYS, "2026-a", 900, clock=lambda: NOW).issue(tenant_id="t", subject="u", kind="staff",
                                                                   role=None, now=NOW)
    assert TokenCodec(KEYS, "2026-b", 900, clock=lambda: NOW).verify(old).subject == "u"
    with pytest.raises(UnauthenticatedError):
        TokenCodec({"2026-b": KEYS["2026-b"]}, "2026-b", 900, clock=lambda: NOW).verify(old)


@pytest.mark.parametrize("tamper", ["expired", "none_alg", "other_key", "wrong_issuer", "hs512"])
def test_bad_tokens_are_refused(tamper):
    codec = TokenCodec(KEYS, "2026-a", 900, clock=lambda: NOW)
    claims = {"iss": "linli", "sub": "u", "tid": "t", "typ": "staff", "iat": int(NOW.timestamp()),
              "exp": int((NOW + timedelta(minutes=5)).timestamp())}
    headers = {"kid": "2026-a"}
    if tamper == "expired":
        token = jwt.encode({**claims, "exp": int((NOW - timedelta(seconds=5)).timestamp())}, KEYS["2026-a"],
                           "HS256", headers)
    elif tamper == "none_alg":
        token = jwt.encode(claims, None, "none", headers)
    elif tamper == "other_key":
        token = jwt.encode(claims, "z" * 64, "HS256", headers)
    elif tamper == "wrong_issuer":
        token = jwt.encode({**claims, "iss": "evil"}, KEYS["2026-a"], "HS256", headers)
    else:
        token = jwt.encode(claims, KEYS["2026-a"], "HS512", headers)
    with pytest.raises(UnauthenticatedError):
        codec.verify(token)


def test_passwords_hash_with_argon2id_and_verify():
    hasher = PasswordHasher()  # the production profile
    hashed = hasher.hash("Linli-demo-2026")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert hashed.startswith("$argon2id$") and "Linli-demo-2026" not in hashed
    assert hasher.verify(hashed, "Linli-demo-2026")
    assert not hasher.verify(hashed, "linli-demo-2026")
    assert not hasher.verify(None, "anything")
    assert digest("lk_live_x") != "lk_live_x" and len(digest("lk_live_x")) == 64


def test_cursors_round_trip_and_refuse_tampering_or_another_tenant():
    codec = CursorCodec(b"k" * 32)
    key = {"PK": {"S": "T#tnt_a"}, "SK": {"S": "USR#usr_9"}}
    cursor = codec.encode("tnt_a", key)
    assert codec.decode("tnt_a", cursor) == key
    assert codec.encode("tnt_a", None) is None and codec.decode("tnt_a", None) is None
    for bad_tenant, bad_cursor in (("tnt_b", cursor), ("tnt_a", cursor[:-2] + "xx"), ("tnt_a", "!!"),
                                   ("tnt_a", CursorCodec(b"x" * 32).encode("tnt_a", key))):
        with pytest.raises(InvalidCursorError):
            codec.decode(bad_tenant, bad_cursor)


def _in_scope(scope: str, action):
    from chalicelib.core.http import list_scope_var

    token = list_scope_var.set(scope)
    try:
        return action()
    finally:
        list_scope_var.reset(token)


def test_a_cursor_pages_only_the_list_it_came_from():
    codec = CursorCodec(b"k" * 32)
    key = {"PK": {"S": "T#tnt_a"}, "SK": {"S": "USR#usr_9"}}
    staff = _in_scope("GET /v1/staff {} staff:usr_1 {}", lambda: codec.encode("tnt_a", key))
    assert _in_scope("GET /v1/staff {} staff:usr_1 {}", lambda: codec.decode("tnt_a", staff)) == key
    for other in ("GET /v1/tickets {} staff:usr_1 {}", 'GET /v1/staff {} staff:usr_1 {"status": "x"}',
                  "GET /v1/staff {} staff:usr_2 {}", ""):
        with pytest.raises(InvalidCursorError):
            _in_scope(other, lambda: codec.decode("tnt_a", staff))


@pytest.mark.parametrize("key", [{"PK": 7}, {"PK": ["T#tnt_a"]}, {"PK": {"S": 1}}, {"PK": {"S": "a", "N": "1"}},
                                 {"PK": {"L": []}}, {}, {f"A{i}": {"S": "x"} for i in range(9)}])
def test_a_signed_cursor_with_a_key_of_the_wrong_shape_is_refused(key):
    import base64
    import json

    codec = CursorCodec(b"k" * 32)
    payload = json.dumps({"t": "tnt_a", "s": codec._scope(), "k": key}, separators=(",", ":"), sort_keys=True).encode()
    cursor = base64.urlsafe_b64encode(codec._sign(payload) + payload).decode().rstrip("=")
    with pytest.raises(InvalidCursorError):
        codec.decode("tnt_a", cursor)


@pytest.mark.parametrize("value, expected", [("3", 3), ('"3"', 3), ('W/"12"', 12), ("999999999", 999999999)])
def test_if_match_takes_a_short_ascii_version(value, expected):
    from chalicelib.core.http import Call

    assert Call(None, None, None, {}, {"if-match": value}, "r").if_match == expected


@pytest.mark.parametrize("value", ["²", "1" * 5000, "1234567890", '"3', "-1", "3.0", "", "٣", 'W/"²"'])
def test_if_match_refuses_anything_else_with_400(value):
    from chalicelib.core.errors import MalformedRequestError
    from chalicelib.core.http import Call

    with pytest.raises(MalformedRequestError) as raised:
        _ = Call(None, None, None, {}, {"if-match": value}, "r").if_match
    assert raised.value.code == "invalid_if_match"


def test_ids_are_prefixed_unique_and_time_ordered():
    ids = {new_id("tkt") for _ in range(1000)}
    assert len(ids) == 1000 and all(i.startswith("tkt_") and len(i) == 30 for i in ids)
    assert sortable_token(1_000) < sortable_token(2_000)


def test_redaction_masks_personal_data_and_secrets():
    record = {"message": "resident 13812345678 wrote from li.lei@example.cn", "password": "hunter2",
              "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "nested": {"refresh_token": "rt_x"},
              "list": ["call +86 139 0000"], "count": 3}
    redacted = redact(record)
    assert redacted["message"] == "resident 138****5678 wrote from l***@example.cn"
    assert redacted["password"] == redacted["Authorization"] == redacted["nested"]["refresh_token"] == "[redacted]"
    assert redacted["count"] == 3


def test_role_table():
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    assert Permission.STAFF_WRITE not in ROLE_PERMISSIONS[Role.SUPERVISOR]
    assert Permission.TENANT_WRITE not in ROLE_PERMISSIONS[Role.AGENT]
    assert ROLE_PERMISSIONS[Role.TECHNICIAN] < ROLE_PERMISSIONS[Role.AGENT] | {Permission.TICKETS_WRITE}
    assert Permission.API_KEYS_MANAGE not in API_KEY_SCOPES and Permission.TICKETS_WRITE in API_KEY_SCOPES


def test_event_routing():
    assert queues_for("sla.breached") == (Queue.NOTIFICATIONS, Queue.REPORTS, Queue.WEBHOOKS)
    assert queues_for("sla.paused") == ()  # the clock's bookkeeping changes no KPI
    assert queues_for("ticket.return_visited") == (Queue.NOTIFICATIONS, Queue.REPORTS, Queue.WEBHOOKS)
    assert queues_for("api_key.created") == ()


def test_stream_filter_matching():
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["event"]}}}}
    assert matches(pattern, {"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "event"}}}})
    assert not matches(pattern, {"eventName": "MODIFY", "dynamodb": {"NewImage": {"entity": {"S": "event"}}}})
    assert not matches(pattern, {"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "staff"}}}})


def test_ttl_cache_forgets_after_its_ttl_so_revocations_reach_every_container():
    from chalicelib.core.cache import TTLCache

    clock = [0.0]
    cache: TTLCache[str] = TTLCache(60, monotonic=lambda: clock[0])
    cache.put("key", "ctx")
    clock[0] = 59.9
    assert cache.get("key") == "ctx"
    clock[0] = 60.0
    assert cache.get("key") is None
    assert cache.get_or_load("key", lambda: None) is None  # a failed lookup is never cached


def test_the_cheap_password_profile_is_for_local_stages_only():
    from chalicelib.core.settings import Settings, SettingsError

    assert Settings.from_env({"LINLI_STAGE": "local", "LINLI_PASSWORD_HASH_PROFILE": "fast"}).password_hash_profile \
        == "fast"
    assert Settings.from_env({"LINLI_STAGE": "prod"}).password_hash_profile == "standard"
    for env in ({"LINLI_STAGE": "prod", "LINLI_PASSWORD_HASH_PROFILE": "fast"},
                {"LINLI_STAGE": "local", "LINLI_PASSWORD_HASH_PROFILE": "weak"}):
        with pytest.raises(SettingsError):
            Settings.from_env(env)


@pytest.mark.parametrize("headers, expected", [
    ({"authorization": "Bearer eyJ.a.b"}, "eyJ.a.b"),
    ({"authorization": "bearer  lk_live_k "}, "lk_live_k"),
    ({"x-api-key": " lk_live_k"}, "lk_live_k"),
    ({"x-api-key": "lk_live_k", "authorization": "Bearer lk_live_k"}, "lk_live_k"),
])
def test_a_request_presents_one_credential(headers, expected):
    from chalicelib.core.http import presented_credential

    assert presented_credential(headers) == expected


@pytest.mark.parametrize("headers", [
    {},
    {"authorization": "Basic abc"},
    {"authorization": "Bearer "},
    {"x-api-key": "eyJhbGciOiJIUzI1NiJ9.e30.sig"},                       # an access token is not an API key
    {"x-api-key": ""},
    {"x-api-key": "lk_live_a", "authorization": "Bearer lk_live_b"},     # two credentials: refuse, don't choose
    {"x-api-key": "lk_live_a", "authorization": "Bearer eyJ.a.b"},
    {"x-api-key": "lk_live_a", "authorization": "Basic abc"},
])
def test_missing_malformed_or_conflicting_credentials_are_refused(headers):
    from chalicelib.core.http import presented_credential

    with pytest.raises(UnauthenticatedError):
        presented_credential(headers)


def test_metrics_say_nothing_when_disabled_or_empty(monkeypatch, capsys, recwarn):
    """Disabled, Powertools would keep every value and print the set at the 100th of one metric; empty, it warns."""
    from chalicelib.core.observability import QuietEMFProvider

    provider = QuietEMFProvider(namespace="Test", service="test")
    handler = provider.log_metrics(lambda event, context: None)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for _ in range(150):
        provider.add_metric(name="Http2xx", unit="Count", value=1)
        handler({}, None)
    assert provider.metric_set == {}
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    handler({}, None)                                                     # nothing recorded: nothing to publish
    assert capsys.readouterr().out == "" and not [w for w in recwarn if "metrics" in str(w.message)]
    provider.add_metric(name="Http2xx", unit="Count", value=1)
    handler({}, None)
    assert '"Http2xx":[1.0]' in capsys.readouterr().out                   # enabled: one EMF line per invocation


def test_a_token_is_good_from_its_issue_until_its_expiry_on_the_codecs_clock():
    from datetime import UTC, datetime, timedelta

    from chalicelib.core.errors import UnauthenticatedError

    issued = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    moment = [issued]
    codec = TokenCodec({"k1": "x" * 32}, "k1", ttl_seconds=900, clock=lambda: moment[0])
    token = codec.issue(tenant_id="tnt_1", subject="usr_1", kind="staff", role="agent", now=issued)
    for offset, good in ((-1, False), (0, True), (899, True), (900, False)):
        moment[0] = issued + timedelta(seconds=offset)
        if good:
            assert codec.verify(token).subject == "usr_1"
        else:
            with pytest.raises(UnauthenticatedError):
                codec.verify(token)
