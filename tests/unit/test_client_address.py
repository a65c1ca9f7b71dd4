"""The caller's address (``chalicelib/core/client_address.py``): the viewer's, from the stamp the web distribution
puts on a request, only when the request carries the distribution's origin-verify value; API Gateway's sourceIp
otherwise. Pure, then at the edge through ``chalice.test.Client`` (what the throttle and a handler are given)."""
from __future__ import annotations

import json

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.core.client_address import ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER, ClientAddress
from chalicelib.core.http import Api, Call, http_middleware
from chalicelib.core.tenancy import TenantContext

SECRET, NEXT_SECRET = "a" * 48, "b" * 48  # the current value, and the next one while the secret rotates
EDGE = "130.176.88.1"  # a CloudFront edge, as API Gateway sees requests through the distribution


def through_the_distribution(viewer: str, secret: str = SECRET) -> dict[str, str]:
    return {ORIGIN_VERIFY_HEADER: secret, VIEWER_ADDRESS_HEADER: viewer}


@pytest.mark.parametrize(("viewer", "expected"), [
    ("203.0.113.7", "203.0.113.7"),
    (" 198.51.100.1 ", "198.51.100.1"),
    ("2001:db8:1:2::7", "2001:db8:1:2::/64"),  # an IPv6 viewer is its /64: it may pick any address in it
    ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::7", "2001:db8:1:3::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4-mapped: the IPv4 viewer it is
])
def test_a_request_through_the_distribution_is_the_viewers(viewer, expected):
    assert ClientAddress(lambda: [SECRET])(through_the_distribution(viewer), EDGE) == expected


@pytest.mark.parametrize("headers", [
    {},                                                                     # a direct call
    {VIEWER_ADDRESS_HEADER: "203.0.113.7"},                                 # the stamp without the proof
    through_the_distribution("203.0.113.7", secret="a" * 47),               # a near guess
    through_the_distribution("203.0.113.7", secret=SECRET + "a"),
    through_the_distribution("203.0.113.7", secret=SECRET.upper()),
    through_the_distribution("203.0.113.7", secret=""),
    through_the_distribution("203.0.113.7", secret="日本" * 24),               # not even ASCII: no 500
    {ORIGIN_VERIFY_HEADER.upper(): SECRET, VIEWER_ADDRESS_HEADER: "203.0.113.7"},  # the edge lower-cases names first
    # what proxies and CloudFront itself say about the viewer is never read, with or without the proof
    {"x-forwarded-for": "203.0.113.7", "cloudfront-viewer-address": "203.0.113.7:443"},
    {ORIGIN_VERIFY_HEADER: SECRET, "x-forwarded-for": "203.0.113.7", "cloudfront-viewer-address": "203.0.113.7:443",
     "x-real-ip": "203.0.113.7", "true-client-ip": "203.0.113.7"},
])
def test_without_the_origin_verify_value_the_headers_are_ignored(headers):
    assert ClientAddress(lambda: [SECRET])(headers, EDGE) == EDGE


@pytest.mark.parametrize("stamp", [
    "203.0.113.7:443", "[2001:db8::1]:443", "2001:db8::1:443:", "203.0.113.7, 10.0.0.1", "203.0.113.256", "localhost",
    "", "1" * 5000, "fe80::1%eth0", "2001:db8::1%eth0x" * 10, "203.0.113.7/32", "2001:db8::/64",
])
def test_a_malformed_stamp_with_the_right_value_falls_back_to_the_source_address(stamp):
    assert ClientAddress(lambda: [SECRET])(through_the_distribution(stamp), EDGE) == EDGE


def test_while_the_secret_rotates_either_value_is_accepted_and_a_retired_one_no_longer():
    rotating = ClientAddress(lambda: [SECRET, NEXT_SECRET])
    assert rotating(through_the_distribution("203.0.113.7", SECRET), EDGE) == "203.0.113.7"
    assert rotating(through_the_distribution("203.0.113.8", NEXT_SECRET), EDGE) == "203.0.113.8"
    rotated = ClientAddress(lambda: [NEXT_SECRET])
    assert rotated(through_the_distribution("203.0.113.7", SECRET), EDGE) == EDGE


def test_the_secret_is_asked_for_only_when_a_request_carries_the_header_and_locally_there_is_none():
    asked: list[int] = []

    def accepted() -> list[str]:
        asked.append(1)
        return [SECRET]

    address = ClientAddress(accepted)
    assert address({VIEWER_ADDRESS_HEADER: "203.0.113.7"}, EDGE) == EDGE
    assert asked == []  # a direct call costs no Secrets Manager read
    address(through_the_distribution("203.0.113.7"), EDGE)
    assert asked == [1]
    local = ClientAddress(lambda: ())  # no secret configured (the local stage): nothing is trusted
    assert local(through_the_distribution("203.0.113.7"), "127.0.0.1") == "127.0.0.1"
    assert local({ORIGIN_VERIFY_HEADER: "", VIEWER_ADDRESS_HEADER: "203.0.113.7"}, "-") == "-"


# --- at the edge: what the anonymous throttle and the handler see ------------------------------------------------
class RecordingThrottle:
    def __init__(self) -> None:
        self.sources: list[tuple[str, str]] = []

    def check_source(self, route: str, source_ip: str) -> None:
        self.sources.append((route, source_ip))

    def check_principal(self, ctx: TenantContext) -> None:
        raise AssertionError("public routes only here")


@pytest.fixture
def edge():
    registry, throttle = Api(), RecordingThrottle()
    registry.throttle = throttle
    registry.client_address = ClientAddress(lambda: [SECRET])
    bp = registry.blueprint(__name__)

    @registry.route(bp, "POST", "/v1/auth/login", auth="public", summary="Where the request came from")
    def sign_in(call: Call) -> dict[str, str]:
        return {"source": call.source_ip}

    app = Chalice("edge")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(bp)
    with Client(app) as client:
        yield registry, throttle, client.http


def test_the_edge_gives_the_throttle_and_the_handler_the_viewers_address(edge):
    _, throttle, http = edge
    headers = {"X-Linli-Origin-Verify": SECRET, "X-Linli-Viewer-Address": "2001:db8::7",
               "X-Forwarded-For": "198.51.100.99"}
    answer = http.post("/v1/auth/login", headers=headers)
    assert answer.status_code == 200 and json.loads(answer.body) == {"source": "2001:db8::/64"}
    assert throttle.sources == [("/v1/auth/login", "2001:db8::/64")]


@pytest.mark.parametrize("headers", [
    {"X-Linli-Viewer-Address": "203.0.113.7", "X-Forwarded-For": "203.0.113.7",
     "CloudFront-Viewer-Address": "203.0.113.7:443"},
    {"X-Linli-Origin-Verify": "guess", "X-Linli-Viewer-Address": "203.0.113.7"},
    {"X-Linli-Origin-Verify": SECRET, "X-Linli-Viewer-Address": "not an address"},  # a broken stamp: no 500
])
def test_the_edge_keeps_api_gateways_address_otherwise(edge, headers):
    _, throttle, http = edge
    answer = http.post("/v1/auth/login", headers=headers)
    assert answer.status_code == 200 and json.loads(answer.body) == {"source": "127.0.0.1"}  # the local gateway's
    assert throttle.sources == [("/v1/auth/login", "127.0.0.1")]


def test_an_edge_without_a_client_address_keeps_api_gateways(edge):
    registry, _, http = edge
    registry.client_address = None
    answer = http.post("/v1/auth/login", headers=through_the_distribution("203.0.113.7"))
    assert json.loads(answer.body) == {"source": "127.0.0.1"}
