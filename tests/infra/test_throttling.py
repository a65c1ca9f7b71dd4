"""Throttling in infra, read from the packaged template (cfn-lint runs over the same template in test_template.py):
API Gateway stage throttling, its 429s in the API's error shape, the integrations' usage plan, the WAF's rate-based
rules on the stage (per address on a direct call, per viewer through the web distribution), and every function's
reserved concurrency."""
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
             "WebhooksConsumer": "WebhooksConsumerQueueMapping", "ReportsConsumer": "ReportsConsumerQueueMapping"}
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


ORIGIN_VERIFY_VALUE = {"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecret}:SecretString:${OriginVerifyKey}}}"}


def _matches(statement: dict, path: str, verify: object = None) -> bool:
    """Whether a scope-down statement matches a request for ``path`` carrying ``verify`` in the origin-verify header
    (the template's own value for it when it came through the distribution), as the regional WAF evaluates it."""
    if "AndStatement" in statement:
        return all(_matches(s, path, verify) for s in statement["AndStatement"]["Statements"])
    if "OrStatement" in statement:
        return any(_matches(s, path, verify) for s in statement["OrStatement"]["Statements"])
    if "NotStatement" in statement:
        return not _matches(statement["NotStatement"]["Statement"], path, verify)
    match = statement["ByteMatchStatement"]
    needle, where = match["SearchString"], match["PositionalConstraint"]
    if "SingleHeader" in match["FieldToMatch"]:
        assert match["FieldToMatch"] == {"SingleHeader": {"Name": "x-linli-origin-verify"}}
        assert where == "EXACTLY" and match["TextTransformations"] == [{"Priority": 0, "Type": "NONE"}]
        return verify is not None and verify == needle
    assert match["FieldToMatch"] == {"UriPath": {}}
    deployed = f"/api{path}".lower()  # as the regional WAF sees it on the stage URL
    return needle in deployed if where == "CONTAINS" else deployed.endswith(needle)


def _counted_by(rules: dict, path: str, verify: object = None) -> set[str]:
    """The rate-based rules that count a request (each by its own key); every rule has a scope."""
    return {name for name, rule in rules.items()
            if _matches(rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"], path, verify)}


def test_the_waf_limits_each_address_on_the_stage_and_credential_routes_harder(resources):
    acl = resources["ApiWebAcl"]
    assert acl["Type"] == "AWS::WAFv2::WebACL" and acl["Properties"]["Scope"] == "REGIONAL"
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    association = resources["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    assert association["ResourceArn"] == {"Fn::Sub": STAGE_ARN}  # the stage Chalice deploys (SAM's RestAPI.Stage)

    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    assert set(rules) == {"credentials-per-address", "credentials-per-viewer", "requests-per-address",
                          "requests-per-viewer"}
    bodies = acl["Properties"]["CustomResponseBodies"]
    for name, rule in rules.items():
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["EvaluationWindowSec"] == 300
        if name.endswith("-per-address"):  # the caller's address on a direct call
            assert rate["AggregateKeyType"] == "IP" and "ForwardedIPConfig" not in rate
        else:  # the viewer's through the distribution: the address its function stamps (plain, as WAF parses it)
            assert rate["AggregateKeyType"] == "FORWARDED_IP"
            # a request without a valid stamp (there is none: the function always sets one) is not counted, never
            # refused: a broken stamp must not block every viewer
            assert rate["ForwardedIPConfig"] == {"HeaderName": "X-Linli-Viewer-Address", "FallbackBehavior": "NO_MATCH"}
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        assert {"Name": "Retry-After", "Value": "60"} in response["ResponseHeaders"]
        error = json.loads(bodies[response["CustomResponseBodyKey"]]["Content"])["error"]
        assert error["code"] == "rate_limited" and error["message"]
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
        assert rule["VisibilityConfig"]["MetricName"] == f"linli-{name}"
    limit = {name: rule["Statement"]["RateBasedStatement"]["Limit"] for name, rule in rules.items()}
    assert limit["credentials-per-address"] == limit["credentials-per-viewer"]
    assert limit["requests-per-address"] == limit["requests-per-viewer"]
    assert 10 <= limit["credentials-per-address"] < limit["requests-per-address"]

    through = ORIGIN_VERIFY_VALUE  # the value the distribution's API origin sends (test_web_distribution.py)
    for route in CREDENTIAL_ROUTES:
        assert _counted_by(rules, route) == {"credentials-per-address", "requests-per-address"}, route
        assert _counted_by(rules, route, through) == {"credentials-per-viewer", "requests-per-viewer"}, route
        # a direct call that guesses the header is a direct call: counted by its own address
        assert _counted_by(rules, route, "guess") == {"credentials-per-address", "requests-per-address"}, route
    for route in ("/v1/tickets", "/v1/public/tenants/{slug}/branding", "/v1/me/notifications"):
        assert _counted_by(rules, route) == {"requests-per-address"}, route
        assert _counted_by(rules, route, through) == {"requests-per-viewer"}, route


def test_consumers_have_reserved_concurrency_and_their_queues_stay_within_it(resources):
    reserved = {}
    for function, mapping in CONSUMERS.items():
        props = resources[function]["Properties"]
        assert props["Handler"].startswith("app.")  # Chalice's function, with the reservation merged in
        reserved[function] = props["ReservedConcurrentExecutions"]
        assert reserved[function] >= 2, function
        if mapping:  # SQS scales the consumer no further than its reservation: no throttled receives
            assert resources[mapping]["Properties"]["ScalingConfig"]["MaximumConcurrency"] <= reserved[function]


def test_every_function_has_reserved_concurrency_and_two_stages_fit_one_account(resources):
    """Each function gets its share and no more (one runaway function cannot starve the others or the account);
    dev and prod side by side fit the account's default 1000 above the 100 Lambda keeps unreserved."""
    reserved = {name: r["Properties"]["ReservedConcurrentExecutions"] for name, r in resources.items()
                if r["Type"] == "AWS::Serverless::Function"}
    assert set(reserved) >= {"APIHandler", "ReplayDispatchFailures", "SlaSweep", "AutoClose", *CONSUMERS}
    assert all(n >= 1 for n in reserved.values()), reserved
    # one run at a time: an overlapping schedule waits (EventBridge retries a throttled invocation), as does a
    # second operator's replay, instead of two sweeps scheduling the same checks
    assert {name: reserved[name] for name in ("SlaSweep", "AutoClose", "ReplayDispatchFailures")} == dict.fromkeys(
        ("SlaSweep", "AutoClose", "ReplayDispatchFailures"), 1)
    stage = next(s for s in resources["RestAPI"]["Properties"]["MethodSettings"] if s["ResourcePath"] == "/*")
    assert reserved["APIHandler"] >= stage["ThrottlingRateLimit"] * 0.4  # the stage's rate at up to 400 ms a request
    assert 2 * sum(reserved.values()) <= 1000 - 100, reserved
