"""ResidentLogin on in-memory fakes: phone codes (cooldown, caps, one use, lock) and WeChat binding."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.auth import TokenCodec
from chalicelib.core.errors import ConflictError, RateLimitedError, UnauthenticatedError
from chalicelib.core.permissions import Permission, Role
from chalicelib.core.settings import Settings
from chalicelib.core.tenancy import Principal, TenantContext, UnitClaim
from chalicelib.notifications.channels import LocalOutbox
from chalicelib.residents.login import OtpDelivery, ResidentLogin, code_digest
from chalicelib.residents.people import ResidentService
from chalicelib.residents.places import PlaceService
from chalicelib.residents.schemas import BuildingIn, CommunityIn, ResidentIn, ResidentOut, ResidentUnitIn, UnitIn
from chalicelib.residents.wechat import LocalWeChat
from tests.fakes.residents import InMemoryOtpRepository, InMemoryResidentRepository
from tests.fakes.storage import MemoryStore
from tests.fakes.tenants import access_and_sessions

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
ADMIN = TenantContext("tnt_1", Principal("staff", "usr_admin", Role.ADMIN, frozenset(Permission)))
PHONE, STRANGER = "13812345678", "13900000000"


@dataclass
class World:
    store: MemoryStore
    codes: InMemoryOtpRepository
    sms: LocalOutbox
    codec: TokenCodec
    login: ResidentLogin
    resident: ResidentOut

    def sent_code(self, phone: str = PHONE) -> str:
        return self.sms.messages(to=phone)[0]["params"]["code"]


@pytest.fixture
def recent() -> datetime:
    """Shortly before now: tokens are verified against the wall clock, so tests that sign in use this."""
    return datetime.now(timezone.utc) - timedelta(minutes=5)


@pytest.fixture
def world() -> World:
    """Given a resident of 1栋101 with the phone 13812345678, caps of 3 codes a day per phone and 5 per tenant."""
    store = MemoryStore()
    repo, codes = InMemoryResidentRepository(store), InMemoryOtpRepository(store)
    places = PlaceService(repo, store.unit_of_work)
    residents = ResidentService(repo, store.unit_of_work, places, *access_and_sessions(store))
    community = places.create_community(ADMIN, CommunityIn(name="翠苑"), T0)
    building = places.create_building(ADMIN, community.id, BuildingIn(name="1栋"), T0)
    unit = places.create_unit(ADMIN, community.id, UnitIn(building_id=building.id, number="101"), T0)
    resident = residents.create_resident(ADMIN, ResidentIn(name="陈阿姨", phone=PHONE, units=[
        ResidentUnitIn(unit_id=unit.id, community_id=community.id)]), T0)
    store.events.clear()
    sms, codec = LocalOutbox(), TokenCodec({"k1": "x" * 32}, "k1", ttl_seconds=3600)
    settings = Settings(otp_per_phone_window=3, otp_per_source_window=4, otp_daily_per_tenant=5)
    delivery = OtpDelivery(sms)  # the queue hop, taken at once
    login = ResidentLogin(repo, codes, codec, lambda body, delay: delivery.handle(body, T0), settings, LocalWeChat(),
                          store.unit_of_work, access_and_sessions(store)[1])
    return World(store, codes, sms, codec, login, resident)


def test_a_known_phone_gets_a_code_by_sms_and_only_its_digest_is_kept(world: World):
    world.login.request_code("tnt_1", "绿城物业", PHONE, T0)

    [message] = world.sms.messages(to=PHONE)
    code = message["params"]["code"]
    assert (message["channel"], message["tenant_id"], message["template"]) == ("sms", "tnt_1", "otp")
    assert message["body"] == f"【绿城物业】您的验证码是{code}，5分钟内有效，请勿告诉他人。"
    otp = world.codes.get_code("tnt_1", PHONE)
    assert (otp.code_digest, otp.resident_id, otp.attempts) == (
        code_digest("tnt_1", PHONE, code), world.resident.id, 0)
    assert (otp.sent_at, otp.valid_until) == ("2026-11-27T02:00:00.000Z", "2026-11-27T02:05:00.000Z")


def test_an_unknown_phone_is_answered_the_same_but_nothing_is_sent(world: World):
    world.login.request_code("tnt_1", "绿城物业", STRANGER, T0)

    assert world.sms.messages(to=STRANGER) == []
    assert world.codes.get_code("tnt_1", STRANGER).resident_id is None
    with pytest.raises(RateLimitedError) as raised:
        world.login.request_code("tnt_1", "绿城物业", STRANGER, T0 + timedelta(seconds=30))
    assert (raised.value.code, raised.value.retry_after) == ("otp_cooldown", 60)


def test_a_new_code_waits_a_minute_and_a_phone_gets_a_few_per_quarter_hour_never_a_day_long_lock(world: World):
    world.login.request_code("tnt_1", "物业", PHONE, T0, "198.51.100.7")
    with pytest.raises(RateLimitedError) as cooldown:
        world.login.request_code("tnt_1", "物业", PHONE, T0 + timedelta(seconds=59), "198.51.100.7")
    for minutes in (2, 4):
        world.login.request_code("tnt_1", "物业", PHONE, T0 + timedelta(minutes=minutes), f"203.0.113.{minutes}")

    with pytest.raises(RateLimitedError) as slowed:
        world.login.request_code("tnt_1", "物业", PHONE, T0 + timedelta(minutes=6), "203.0.113.6")

    assert cooldown.value.code == "otp_cooldown"
    assert (slowed.value.code, slowed.value.retry_after) == ("otp_phone_limit", 9 * 60 + 1)  # the window ends at :15
    world.login.request_code("tnt_1", "物业", PHONE, T0 + timedelta(minutes=15), "198.51.100.7")
    assert len(world.sms.messages(to=PHONE)) == 4


def test_made_up_numbers_never_use_up_the_tenants_daily_codes(world: World):
    for n in range(12):  # more than the tenant's daily cap (5), from addresses that stay under their limit
        world.login.request_code("tnt_1", "物业", f"1380000{n:04d}", T0, f"203.0.113.{n}")
    world.login.request_code("tnt_1", "物业", PHONE, T0, "198.51.100.7")
    assert len(world.sms.messages(to=PHONE)) == 1 and len(world.sms.messages()) == 1


def test_one_address_is_slowed_but_the_resident_gets_in_from_another(world: World):
    attacker = "203.0.113.9"
    for n in range(4):
        world.login.request_code("tnt_1", "物业", f"1380000{n:04d}", T0, attacker)
    with pytest.raises(RateLimitedError) as slowed:
        world.login.request_code("tnt_1", "物业", PHONE, T0, attacker)
    assert slowed.value.code == "otp_source_limit"
    world.login.request_code("tnt_1", "物业", PHONE, T0, "198.51.100.7")
    assert len(world.sms.messages(to=PHONE)) == 1


def test_the_tenants_daily_cap_counts_codes_sent_to_residents_and_lifts_at_midnight_in_china(world: World):
    for minutes in range(0, 10, 2):  # five codes to the resident: the tenant's cap, over two windows
        at = T0 + timedelta(minutes=minutes + (15 if minutes >= 6 else 0))
        world.login.request_code("tnt_1", "物业", PHONE, at, f"203.0.113.{minutes}")
    with pytest.raises(RateLimitedError) as capped:
        world.login.request_code("tnt_1", "物业", PHONE, T0 + timedelta(minutes=40), "198.51.100.7")
    assert (capped.value.code, capped.value.retry_after) == ("otp_daily_limit", 14 * 3600 - 40 * 60 + 1)
    world.login.request_code("tnt_1", "物业", PHONE, T0 + timedelta(hours=14), "198.51.100.7")  # midnight there


def test_within_the_cooldown_at_the_cap_the_cooldown_is_reported(world: World):
    for minutes in (0, 2, 4):
        world.login.request_code("tnt_1", "物业", PHONE, T0 + timedelta(minutes=minutes))

    with pytest.raises(RateLimitedError) as raised:
        world.login.request_code("tnt_1", "物业", PHONE, T0 + timedelta(minutes=4, seconds=30))

    assert (raised.value.code, raised.value.retry_after) == ("otp_cooldown", 60)


def test_the_right_code_signs_the_resident_in_once(world: World, recent: datetime):
    world.login.request_code("tnt_1", "物业", PHONE, recent)
    code = world.sent_code()

    token, _, resident = world.login.verify_code("tnt_1", PHONE, code, recent + timedelta(minutes=1))

    claims = world.codec.verify(token)
    unit = world.resident.units[0]
    assert (claims.tenant_id, claims.subject, claims.kind) == ("tnt_1", world.resident.id, "resident")
    assert claims.units == (UnitClaim(unit.community_id, unit.unit_id, "1栋101", unit.building_id),)
    assert resident.resident_id == world.resident.id and world.codes.get_code("tnt_1", PHONE) is None
    with pytest.raises(UnauthenticatedError) as reused:
        world.login.verify_code("tnt_1", PHONE, code, recent + timedelta(minutes=1))
    assert reused.value.code == "invalid_code"


def test_an_expired_code_or_an_unknown_phone_is_refused(world: World):
    world.login.request_code("tnt_1", "物业", PHONE, T0)
    world.login.request_code("tnt_1", "物业", STRANGER, T0)

    with pytest.raises(UnauthenticatedError) as expired:
        world.login.verify_code("tnt_1", PHONE, world.sent_code(), T0 + timedelta(minutes=5))
    with pytest.raises(UnauthenticatedError) as unknown:
        world.login.verify_code("tnt_1", STRANGER, "123456", T0)

    assert expired.value.code == unknown.value.code == "invalid_code"
    assert world.codes.get_code("tnt_1", STRANGER).attempts == 1


def test_five_wrong_codes_lock_the_right_one(world: World):
    world.login.request_code("tnt_1", "物业", PHONE, T0)
    code = world.sent_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(UnauthenticatedError):
            world.login.verify_code("tnt_1", PHONE, wrong, T0)

    with pytest.raises(RateLimitedError) as locked:
        world.login.verify_code("tnt_1", PHONE, code, T0 + timedelta(minutes=1))

    assert (locked.value.code, locked.value.retry_after) == ("otp_locked", 4 * 60 + 1)


def test_wechat_signs_in_after_one_binding_by_phone_code(world: World, recent: datetime):
    with pytest.raises(ConflictError) as unbound:
        world.login.wechat_login("tnt_1", "wx_app", "wx-code-1", recent)
    binding = unbound.value.details["binding_token"]
    world.login.request_code("tnt_1", "物业", PHONE, recent)

    world.login.verify_code("tnt_1", PHONE, world.sent_code(), recent, binding)
    token, _, resident = world.login.wechat_login("tnt_1", "wx_app", "wx-code-1", recent)

    assert unbound.value.code == "binding_required"
    assert resident.resident_id == world.resident.id and world.codec.verify(token).subject == world.resident.id
    assert resident.wechat_openid == LocalWeChat().openid_for("wx_app", "wx-code-1")
    [event] = world.store.events
    assert (event.type, event.subject_id, event.actor) == (
        "resident.wechat_bound", world.resident.id, {"type": "resident", "id": world.resident.id, "role": None})


def test_a_binding_token_must_be_one_and_of_this_tenant(world: World, recent: datetime):
    staff_token = world.codec.issue(tenant_id="tnt_1", subject="usr_1", kind="staff", role="admin", now=recent)
    world.login.request_code("tnt_1", "物业", PHONE, recent)

    with pytest.raises(UnauthenticatedError) as raised:
        world.login.verify_code("tnt_1", PHONE, world.sent_code(), recent, staff_token)

    assert raised.value.code == "invalid_binding_token" and world.store.events == []
