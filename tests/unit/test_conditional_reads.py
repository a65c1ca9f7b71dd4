"""Conditional reads at the HTTP edge (issue 12): every successful GET with a JSON body sends a strong ETag and
answers a matching If-None-Match with 304 and no body; errors and writes are left as they were.

The edge is exercised through ``chalice.test.Client`` on a registry of its own, so these run in milliseconds."""
from __future__ import annotations

import json
import re

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.core.errors import NotFoundError
from chalicelib.core.http import Api, Call, conditional_json_response, entity_tag, http_middleware, none_match
from chalicelib.core.permissions import Permission
from chalicelib.core.schema import Request, Schema
from chalicelib.core.tenancy import Principal, TenantContext

STRONG_TAG = re.compile(r'"[A-Za-z0-9_-]{27}"')


class Thing(Schema):
    id: str
    name: str
    version: int


class ThingPatch(Request):
    name: str


class Staff:
    """Authenticates every token as tenant ``tnt_<token>``'s admin."""

    def authenticate(self, token: str, request_id: str) -> TenantContext:
        return TenantContext(f"tnt_{token}", Principal("staff", "usr_1", permissions=frozenset(Permission)),
                             request_id)


@pytest.fixture
def edge():
    """A registry with a public and a staff read of one thing, a write that bumps its version, and an error."""
    registry, things = Api(), {"a": Thing(id="a", name="水管", version=1)}
    registry.authenticator = Staff()
    bp = registry.blueprint(__name__)

    @registry.route(bp, "GET", "/things/{thing_id}", response=Thing, summary="A thing")
    def get_thing(call: Call) -> Thing:
        if call.path["thing_id"] not in things:
            raise NotFoundError()
        return things[call.path["thing_id"]]

    @registry.route(bp, "GET", "/public/things/{thing_id}", auth="public", response=Thing, summary="Public")
    def public_thing(call: Call) -> Thing:
        return things[call.path["thing_id"]]

    @registry.route(bp, "GET", "/branded", auth="public", response=Thing, summary="Cacheable",
                    cache_control="public, max-age=60")
    def branded(call: Call) -> Thing:
        return things["a"]

    @registry.route(bp, "PATCH", "/things/{thing_id}", body=ThingPatch, response=Thing, summary="Rename")
    def rename(call: Call) -> Thing:
        current = things[call.path["thing_id"]]
        if call.if_match is not None and call.if_match != current.version:
            raise NotFoundError()
        things[current.id] = Thing(id=current.id, name=call.body.name, version=current.version + 1)
        return things[current.id]

    app = Chalice("edge")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(bp)
    with Client(app) as client:
        yield registry, client.http


def test_entity_tag_is_a_strong_tag_of_the_exact_bytes():
    tag = entity_tag('{"name":"水管"}'.encode())
    assert STRONG_TAG.fullmatch(tag)
    assert tag == entity_tag('{"name":"水管"}'.encode())
    assert tag != entity_tag('{"name": "水管"}'.encode())  # one byte more is another representation


@pytest.mark.parametrize(("header", "matches"), [
    ('"abc"', True),
    ('W/"abc"', True),                      # weak comparison: the W/ prefix is ignored
    ('"x", "abc"', True),                   # any tag of the list
    ('  "x" ,W/"abc" , "y"  ', True),       # optional whitespace around the commas
    ('"x",,"abc"', True),                   # empty list elements are allowed (RFC 9110 §5.6.1)
    ("*", True),                            # the representation exists
    (" * ", True),
    ('"abcd"', False),
    ('"ab"', False),
    ('"x", "y"', False),
    ("abc", False),                         # unquoted: not an entity tag
    ('W/abc', False),
    ("", False),
    (None, False),
    ('"abc', False),                        # unterminated
])
def test_if_none_match_uses_the_weak_comparison(header, matches):
    assert none_match(header, '"abc"') is matches


def test_a_weak_current_tag_is_compared_weakly_too():
    assert none_match('"abc"', 'W/"abc"') and none_match('W/"abc"', 'W/"abc"')


def test_a_match_answers_304_with_the_tag_and_no_body():
    body = {"id": "a", "name": "水管", "version": 1}
    full = conditional_json_response(body, None, "private, no-cache")
    assert full.status_code == 200 and json.loads(full.body) == body
    assert full.headers["ETag"] == entity_tag(full.body.encode())
    assert full.headers["Content-Type"].startswith("application/json")
    again = conditional_json_response(body, full.headers["ETag"], "private, no-cache")
    assert again.status_code == 304 and again.body == ""
    assert again.headers == {"ETag": full.headers["ETag"], "Cache-Control": "private, no-cache"}  # no Content-Type


def test_reads_send_an_etag_and_revalidate_to_304(edge):
    _, http = edge
    first = http.get("/things/a", headers={"Authorization": "Bearer one"})
    assert first.status_code == 200 and json.loads(first.body)["version"] == 1
    etag = first.headers["ETag"]
    assert STRONG_TAG.fullmatch(etag) and etag == entity_tag(first.body)
    assert first.headers["Cache-Control"] == "private, no-cache"  # a credential's read: private, revalidated
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = http.get("/things/a", headers={"Authorization": "Bearer one", "If-None-Match": header})
        assert again.status_code == 304, header
        assert again.body == b"" and again.headers["ETag"] == etag and "Content-Type" not in again.headers
        assert again.headers["X-Request-Id"]
    stale = http.get("/things/a", headers={"Authorization": "Bearer one", "If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.body == first.body


def test_a_new_version_is_a_new_etag(edge):
    _, http = edge
    auth = {"Authorization": "Bearer one"}
    etag = http.get("/things/a", headers=auth).headers["ETag"]
    renamed = http.patch("/things/a", headers={**auth, "Content-Type": "application/json", "If-Match": "1"},
                         body=json.dumps({"name": "水龙头"}))
    assert renamed.status_code == 200 and json.loads(renamed.body)["version"] == 2
    assert "ETag" not in renamed.headers and "Cache-Control" not in renamed.headers  # writes are as they were
    after = http.get("/things/a", headers={**auth, "If-None-Match": etag})
    assert after.status_code == 200 and json.loads(after.body) == {"id": "a", "name": "水龙头", "version": 2}
    assert after.headers["ETag"] != etag


def test_errors_never_answer_304(edge):
    _, http = edge
    for header in ("*", entity_tag(b'{"error":{}}')):
        missing = http.get("/things/nothing", headers={"Authorization": "Bearer one", "If-None-Match": header})
        assert missing.status_code == 404 and json.loads(missing.body)["error"]["code"] == "not_found"
        assert "ETag" not in missing.headers
    unauthenticated = http.get("/things/a", headers={"If-None-Match": "*"})
    assert unauthenticated.status_code == 401 and "ETag" not in unauthenticated.headers


def test_public_reads_revalidate_and_may_say_how_long_to_keep(edge):
    _, http = edge
    public = http.get("/public/things/a")
    assert public.headers["Cache-Control"] == "no-cache" and STRONG_TAG.fullmatch(public.headers["ETag"])
    branded = http.get("/branded")
    assert branded.headers["Cache-Control"] == "public, max-age=60"
    assert http.get("/branded", headers={"If-None-Match": branded.headers["ETag"]}).status_code == 304


def test_only_successful_json_reads_are_conditional(edge):
    registry, _ = edge
    conditional = {op.name for op in registry.operations if op.conditional}
    assert conditional == {"get_thing", "public_thing", "branded"}


def test_a_handler_name_is_one_operation_id():
    registry = Api()
    bp = registry.blueprint(__name__)

    def refresh(call: Call) -> None:
        return None

    registry.route(bp, "POST", "/v1/auth/refresh", summary="Staff")(refresh)
    with pytest.raises(ValueError, match="two routes are named refresh"):
        registry.route(bp, "POST", "/v1/public/tenants/{slug}/refresh", summary="Resident")(refresh)
