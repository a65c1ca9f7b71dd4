"""Throttling in infra, read from the packaged template (cfn-lint runs over the same template in test_template.py):
API Gateway stage throttling, its 429s in the API's error shape, the integrations' usage plan, the WAF's rate-based
rules per address on the stage, and reserved concurrency for the consumers."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.package import build

pytestmark = pytest.mark.slow

# The anonymous routes that hash a password, send a code or mint tokens (what an address may not flood).
CREDENTIAL_ROUTES = ("/v1/signup", "/v1/auth/login", "/v1/auth/refresh", "/v1/public/tenants/{slug}/otp",
                     "/v1/public/tenants/{slug}/otp/verify", "/v1/public/tenants/{slug}/wechat/login")
CONSUMERS = {"EventDispatcher": None, "SlaConsumer": "SlaConsumerQueueMapping",
             "NotificationsConsumer": "NotificationsConsumerQueueMapping",
             "WebhooksConsumer": "WebhooksConsumerQueueMapping"}
STAGE_ARN = "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/${RestAPI.Stage}"


@pytest.fixture(scope="module")
def resources(tmp_path_factory) -> dict:
    path = build(tmp_path_factory.mktemp("package") / "out", stage="prod", with_deps=False)
    return json.loads(Path(path).read_text())["Resources"]


def test_the_stage_throttles_every_method_and_the_credential_routes_harder(resources):
    api = resources["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api" and api["Properties"]["StageName"] == "api"  # Chalice's, merged
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in api["Properties"]["MethodSettings"]}
    stage = settings.pop(("/*", "*"))
    assert 0 < stage["ThrottlingRateLimit"] <= stage["ThrottlingBurstLimit"] <= 5000  # under the account's default
    paths = api["Properties"]["DefinitionBody"]["paths"]
    assert settings
    for (encoded, method), setting in settings.items():
        path = encoded[1:].replace("~1", "/")  # "/~1v1~1signup" is "/v1/signup" (API Gateway's encoding)
        assert path in CREDENTIAL_ROUTES and method.lower() in paths[path], encoded  # a real route, named right
        assert setting["ThrottlingRateLimit"] < stage["ThrottlingRateLimit"]
        assert setting["ThrottlingBurstLimit"] < stage["ThrottlingBurstLimit"]
    assert ("/~1v1~1auth~1login", "POST") in settings and ("/~1v1~1signup", "POST") in settings


@pytest.mark.parametrize(("name", "response_type", "code"), [("ThrottledResponse", "THROTTLED", "rate_limited"),
                                                              ("QuotaExceededResponse", "QUOTA_EXCEEDED",
                                                               "quota_exceeded")])
def test_gateway_429s_take_the_api_error_shape_with_retry_after(resources, name, response_type, code):
    response = resources[name]["Properties"]
    assert (response["RestApiId"], response["ResponseType"], response["StatusCode"]) == (
        {"Ref": "RestAPI"}, response_type, "429")
    retry_after = response["ResponseParameters"]["gatewayresponse.header.Retry-After"]
    assert int(retry_after.strip("'")) >= 1
    body = json.loads(response["ResponseTemplates"]["application/json"].replace("$context.requestId", "r"))
    assert body["error"]["code"] == code and body["error"]["request_id"] == "r" and body["error"]["message"]


def test_the_integrations_usage_plan_is_on_the_stage_with_a_rate_and_a_daily_quota(resources):
    plan = resources["IntegrationsUsagePlan"]
    assert plan["Type"] == "AWS::ApiGateway::UsagePlan"
    assert plan["Properties"]["ApiStages"] == [{"ApiId": {"Ref": "RestAPI"}, "Stage": {"Ref": "RestAPI.Stage"}}]
    throttle, quota = plan["Properties"]["Throttle"], plan["Properties"]["Quota"]
    stage = next(s for s in resources["RestAPI"]["Properties"]["MethodSettings"] if s["ResourcePath"] == "/*")
    assert 0 < throttle["RateLimit"] <= throttle["BurstLimit"] and throttle["RateLimit"] < stage["ThrottlingRateLimit"]
    assert quota["Period"] == "DAY" and quota["Limit"] > 0


def _matches(statement: dict, path: str) -> bool:
    match = statement["ByteMatchStatement"]
    assert match["FieldToMatch"] == {"UriPath": {}}
    needle, where = match["SearchString"], match["PositionalConstraint"]
    deployed = f"/api{path}".lower()  # as the regional WAF sees it on the stage URL
    return needle in deployed if where == "CONTAINS" else deployed.endswith(needle)


def test_the_waf_limits_each_address_on_the_stage_and_credential_routes_harder(resources):
    acl = resources["ApiWebAcl"]
    assert acl["Type"] == "AWS::WAFv2::WebACL" and acl["Properties"]["Scope"] == "REGIONAL"
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    association = resources["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert association["ResourceArn"] == {"Fn::Sub": STAGE_ARN}  # the stage Chalice deploys (SAM's RestAPI.Stage)

    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    bodies = acl["Properties"]["CustomResponseBodies"]
    for rule in rules.values():
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == "IP" and rate["EvaluationWindowSec"] == 300
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        assert {"Name": "Retry-After", "Value": "60"} in response["ResponseHeaders"]
        error = json.loads(bodies[response["CustomResponseBodyKey"]]["Content"])["error"]
        assert error["code"] == "rate_limited" and error["message"]
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
    everything = rules["requests-per-address"]["Statement"]["RateBasedStatement"]
    credentials = rules["credentials-per-address"]["Statement"]["RateBasedStatement"]
    assert "ScopeDownStatement" not in everything
    assert 10 <= credentials["Limit"] < everything["Limit"]
    scope = credentials["ScopeDownStatement"]["OrStatement"]["Statements"]
    for route in CREDENTIAL_ROUTES:
        assert any(_matches(statement, route) for statement in scope), route
    for route in ("/v1/tickets", "/v1/public/tenants/{slug}/branding", "/v1/me/notifications"):
        assert not any(_matches(statement, route) for statement in scope), route


def test_consumers_have_reserved_concurrency_and_their_queues_stay_within_it(resources):
    reserved = {}
    for function, mapping in CONSUMERS.items():
        props = resources[function]["Properties"]
        assert props["Handler"].startswith("app.")  # Chalice's function, with the reservation merged in
        reserved[function] = props["ReservedConcurrentExecutions"]
        assert reserved[function] >= 2, function
        if mapping:  # SQS scales the consumer no further than its reservation: no throttled receives
            assert resources[mapping]["Properties"]["ScalingConfig"]["MaximumConcurrency"] <= reserved[function]
    assert "ReservedConcurrentExecutions" not in resources["APIHandler"]["Properties"]  # the API scales freely
    assert sum(reserved.values()) <= 1000 - 100 - 500  # the account's default, its unreserved floor, room for the API
