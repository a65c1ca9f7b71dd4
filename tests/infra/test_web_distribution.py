"""The web distribution, read from the packaged template (cfn-lint runs over the same template in test_template.py):
the console and the resident pages on a private bucket that only the distribution reads (origin access control),
``/v1/*`` to the API stage uncached on the same origin, with the proof that a request came through the distribution
and the viewer's address the API and the WAF key on (``chalicelib/core/client_address.py``), HTTPS only, and a routing
function that serves the single-page apps exactly as the local stack does (``devstack/web.py``). Also what
``make package`` puts in ``out/web/`` for ``aws s3 sync``."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from chalicelib.core.client_address import ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER, ClientAddress
from infra.package import build, copy_web_builds

pytestmark = pytest.mark.slow

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy "CachingDisabled"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AWS managed origin request policy
DISTRIBUTION_ARN = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${WebDistribution}"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    path = build(tmp_path_factory.mktemp("package") / "out", stage="prod", with_deps=False)
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="module")
def distribution(template) -> dict:
    web = template["Resources"]["WebDistribution"]
    assert web["Type"] == "AWS::CloudFront::Distribution"
    return web["Properties"]["DistributionConfig"]


def _behaviours(distribution: dict) -> dict[str, dict]:
    return {"default": distribution["DefaultCacheBehavior"],
            **{b["PathPattern"]: b for b in distribution.get("CacheBehaviors", [])}}


def _origin(distribution: dict, behaviour: dict) -> dict:
    return next(o for o in distribution["Origins"] if o["Id"] == behaviour["TargetOriginId"])


def test_the_web_bucket_is_private_encrypted_and_readable_only_by_the_distribution(template):
    resources = template["Resources"]
    bucket = resources["WebBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}  # no ACLs at all
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert "WebsiteConfiguration" not in bucket  # not a public website endpoint: CloudFront reads it over the S3 API

    policy = resources["WebBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "WebBucket"}
    allowed = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allowed == [{
        "Sid": "ReadThroughTheDistributionOnly", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": {"Fn::Sub": "${WebBucket.Arn}/*"},
        "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": DISTRIBUTION_ARN}}}}]  # this distribution only
    denied = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in denied] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_the_distribution_reads_the_bucket_through_origin_access_control(template, distribution):
    web = _origin(distribution, distribution["DefaultCacheBehavior"])
    assert web["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert web["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert web["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy origin access identity
    control = template["Resources"]["WebOriginAccessControl"]
    assert control["Type"] == "AWS::CloudFront::OriginAccessControl"
    config = control["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3", "always", "sigv4")


def test_v1_goes_to_the_api_stage_uncached_with_every_viewer_header_but_host(template, distribution):
    api = _behaviours(distribution)["/v1/*"]
    origin = _origin(distribution, api)
    assert origin["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert origin["OriginPath"] == {"Fn::Sub": "/${RestAPI.Stage}"}  # /v1/tickets reaches …/api/v1/tickets
    assert template["Resources"]["RestAPI"]["Properties"]["StageName"] == "api"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER  # Authorization, If-Match, query strings…
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    # the routing function never sees an API call; the API's behaviour runs only the viewer-address stamp
    assert api["FunctionAssociations"] == [{
        "EventType": "viewer-request",
        "FunctionARN": {"Fn::GetAtt": ["ApiViewerAddressFunction", "FunctionMetadata.FunctionARN"]}}]
    # distribution-wide error pages would replace the API's JSON errors (and its 404s) with an HTML page
    assert "CustomErrorResponses" not in distribution


def test_viewers_use_https_over_http2_and_3_with_the_local_stacks_security_headers(template, distribution):
    from devstack.web import SECURITY_HEADERS

    behaviours = _behaviours(distribution)
    assert behaviours["default"]["ViewerProtocolPolicy"] == "redirect-to-https"  # a typed-in http:// address
    assert behaviours["/v1/*"]["ViewerProtocolPolicy"] == "https-only"  # an API call is refused, never redirected
    assert distribution["HttpVersion"] == "http2and3"
    assert {b["ResponseHeadersPolicyId"]["Ref"] for b in behaviours.values()} == {"WebSecurityHeaders"}
    headers = template["Resources"]["WebSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"]
    sent = {"X-Content-Type-Options": "nosniff" if headers["ContentTypeOptions"]["Override"] else None,
            "Referrer-Policy": headers["ReferrerPolicy"]["ReferrerPolicy"],
            "X-Frame-Options": headers["FrameOptions"]["FrameOption"]}
    assert sent == SECURITY_HEADERS  # what the pages are tested under locally is what CloudFront adds
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    # CloudFront's standard logs write every query string (GET /v1/residents?q=<phone>) and cannot leave it out;
    # the API stage's access log records /v1/* without it (test_access_logs_and_tracing.py)
    assert "Logging" not in distribution
    skipped = template["Resources"]["WebDistribution"]["Metadata"]["checkov"]["skip"]
    assert [s["id"] for s in skipped] == ["CKV_AWS_86"] and "query string" in skipped[0]["comment"]


# --- the caller's address through the distribution (chalicelib/core/client_address.py) -------------------------
ORIGIN_VERIFY_VALUE = {"Fn::Sub": "{{resolve:secretsmanager:${OriginVerifySecret}:SecretString:${OriginVerifyKey}}}"}


def test_the_api_origin_sends_the_origin_verify_value_from_the_secret_the_stack_generates(template, distribution):
    origin = _origin(distribution, _behaviours(distribution)["/v1/*"])
    assert origin["OriginCustomHeaders"] == [{"HeaderName": "X-Linli-Origin-Verify",
                                              "HeaderValue": ORIGIN_VERIFY_VALUE}]
    assert origin["OriginCustomHeaders"][0]["HeaderName"].lower() == ORIGIN_VERIFY_HEADER  # what the API reads
    web = _origin(distribution, distribution["DefaultCacheBehavior"])
    assert "OriginCustomHeaders" not in web  # the bucket never sees it

    resources = template["Resources"]
    secret = resources["OriginVerifySecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret" and "SecretString" not in secret["Properties"]
    generated = secret["Properties"]["GenerateSecretString"]
    label = template["Parameters"]["OriginVerifyKey"]["Default"]
    assert (generated["SecretStringTemplate"], generated["GenerateStringKey"]) == ("{}", label)  # {"v1": "<value>"}
    assert generated["PasswordLength"] >= 32 and generated["ExcludePunctuation"] is True  # a plain header value
    # not under linli/: the "Secrets" statement every function's role has (linli/*) does not reach it
    assert "Name" not in secret["Properties"]


def test_only_the_api_function_reads_the_secret_and_no_function_configuration_holds_its_value(template):
    resources = template["Resources"]
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["LINLI_ORIGIN_VERIFY_SECRET_NAME"] == {"Ref": "OriginVerifySecret"}  # the ARN, read at run time
    assert "LINLI_ORIGIN_VERIFY_SECRET_NAME" not in template["Globals"]["Function"]["Environment"]["Variables"]
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert "{{resolve:" not in json.dumps([f["Properties"].get("Environment") for f in functions.values()]), (
        "a resolved secret in a function's environment is readable by whoever reads its configuration")
    readers = [(r["Properties"]["Roles"], s) for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
               for s in r["Properties"]["PolicyDocument"]["Statement"] if "OriginVerifySecret" in json.dumps(s)]
    assert readers == [([{"Ref": "ApiHandlerRole"}], {
        "Sid": "ReadOriginVerify", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
        "Resource": {"Ref": "OriginVerifySecret"}})]
    assert template["Outputs"]["OriginVerifySecretArn"]["Value"] == {"Ref": "OriginVerifySecret"}


def test_the_api_behaviour_stamps_the_viewer_address_over_whatever_the_viewer_sent(template, distribution):
    api = _behaviours(distribution)["/v1/*"]
    # every viewer header but Host reaches the stage: the stamp among them (an origin request policy cannot name
    # CloudFront's own CloudFront-Viewer-Address beside "all viewer headers but Host", and whether the managed
    # policy adds it is not documented: the stamp does not depend on either)
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert [b for b in _behaviours(distribution).values() if b["TargetOriginId"] == "api"] == [api]
    function = template["Resources"]["ApiViewerAddressFunction"]["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0" and function["AutoPublish"] is True

    spoofed = {VIEWER_ADDRESS_HEADER: {"value": "10.0.0.1", "multiValue": [{"value": "10.0.0.1"},
                                                                           {"value": "10.0.0.2"}]},
               "x-forwarded-for": {"value": "10.0.0.3"}, "authorization": {"value": "Bearer t"}}
    stamped = _run_the_function(function["FunctionCode"], [
        _viewer_request("/v1/auth/login", spoofed, ip="203.0.113.7"),
        _viewer_request("/v1/tickets", {}, ip="2001:db8::7")])
    assert stamped[0]["uri"] == "/v1/auth/login"  # the request goes on, only the header changed
    assert stamped[0]["headers"] == {**spoofed, VIEWER_ADDRESS_HEADER: {"value": "203.0.113.7"}}
    assert stamped[1]["headers"] == {VIEWER_ADDRESS_HEADER: {"value": "2001:db8::7"}}

    # what the API makes of it, with the value the distribution adds beside it
    address = ClientAddress(lambda: ["v" * 48])
    arrived = {name: header["value"] for name, header in stamped[0]["headers"].items()}
    assert address({**arrived, ORIGIN_VERIFY_HEADER: "v" * 48}, "130.176.88.1") == "203.0.113.7"
    assert address(arrived, "130.176.88.1") == "130.176.88.1"  # a direct call sending the same headers


def test_the_outputs_name_the_distribution_and_the_bucket(template):
    outputs = template["Outputs"]
    assert outputs["WebDistributionDomainName"]["Value"] == {"Fn::GetAtt": ["WebDistribution", "DomainName"]}
    assert outputs["WebDistributionId"]["Value"] == {"Ref": "WebDistribution"}
    assert outputs["WebBucketName"]["Value"] == {"Ref": "WebBucket"}


# --- the routing function (CloudFront Functions' JavaScript, run here by node) against devstack/web.py ----------
ROUTES = [
    "/", "/console", "/console/", "/console/queue", "/console/tickets/tkt_1", "/console/assets/app.js",
    "/console/assets/missing.js", "/console/favicon.ico", "/r/demo", "/r/demo/", "/r/demo/tickets/tkt_1",
    "/r/demo/assets/app.js", "/r/lotus-42/me", "/r/demo/assets/missing.js", "/r/x/", "/r/Demo/", "/r/", "/favicon.ico",
    "/robots.txt", "/console.html",
]


def _node() -> str:
    """Node runs the CloudFront Functions' JavaScript here; the repo needs Node 20 for its web apps anyway, so its
    absence is a broken setup, not a reason to leave the functions untested."""
    node = shutil.which("node")
    assert node is not None, ("node is not on PATH: these tests run the CloudFront Functions with it; install Node 20, "
                              "which the web apps need too (web/console/package.json)")
    return node


def _run_the_function(code: str, events: list[dict]) -> list[dict]:
    """What a CloudFront Function (``handler(event)``, viewer request) returns for each event."""
    script = code + "\nconsole.log(JSON.stringify(JSON.parse(process.argv[1]).map(handler)));"
    answer = subprocess.run([_node(), "-e", script, json.dumps(events)], capture_output=True, text=True, check=True)
    return json.loads(answer.stdout)


def _viewer_request(uri: str, headers: dict | None = None, ip: str = "198.51.100.1") -> dict:
    return {"version": "1.0", "request": {"method": "GET", "uri": uri, "querystring": {}, "headers": headers or {},
                                          "cookies": {}}, "viewer": {"ip": ip}}


def _route_with_the_function(code: str, uris: list[str]) -> list[dict]:
    return _run_the_function(code, [_viewer_request(uri) for uri in uris])


@pytest.fixture
def builds(tmp_path) -> Path:
    """out/web as make package leaves it: each app's index.html and one hashed asset."""
    for prefix in ("console", "r"):
        (tmp_path / prefix / "assets").mkdir(parents=True)
        (tmp_path / prefix / "index.html").write_text(f"{prefix} index")
        (tmp_path / prefix / "assets" / "app.js").write_text(f"{prefix} app")
        (tmp_path / prefix / "favicon.ico").write_text(f"{prefix} icon")
    return tmp_path


def test_the_routing_function_serves_the_apps_as_the_local_stack_does(template, distribution, builds):
    from devstack.web import WebApps

    function = template["Resources"]["WebRoutingFunction"]["Properties"]
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0" and function["AutoPublish"] is True
    assert len(function["FunctionCode"].encode()) <= 10_240  # CloudFront Functions' size limit
    assert distribution["DefaultCacheBehavior"]["FunctionAssociations"] == [{
        "EventType": "viewer-request",
        "FunctionARN": {"Fn::GetAtt": ["WebRoutingFunction", "FunctionMetadata.FunctionARN"]}}]

    def in_aws(result: dict) -> tuple:
        if "statusCode" in result:
            return result["statusCode"], result.get("headers", {}).get("location", {}).get("value")
        key = builds / result["uri"].lstrip("/")  # the bucket: out/web synced as it is
        # S3 answers 403 for a key it does not hold (the distribution may not list the bucket): a miss either way
        return (200, key.read_text()) if key.is_file() else (404, None)

    local = WebApps(console=builds / "console", resident=builds / "r")

    def on_the_local_stack(path: str) -> tuple:
        served = local.lookup(path)
        if served is None:  # not a web app's path: the API's, which has no such route
            return 404, None
        return served.status, served.headers.get("Location") or (served.body.decode() if served.status == 200 else
                                                                  None)

    routed = dict(zip(ROUTES, map(in_aws, _route_with_the_function(function["FunctionCode"], ROUTES)), strict=True))
    assert routed["/console/tickets/tkt_1"] == (200, "console index")  # a route of the app: its index.html
    assert routed["/r/demo/assets/app.js"] == (200, "r app")  # one resident build for every tenant
    assert routed["/r/lotus-42/me"] == (200, "r index")
    assert routed["/"] == (308, "/console/")  # the distribution's root: the console (locally the API's port)
    assert {path: answer for path, answer in routed.items() if path != "/"} == {
        path: on_the_local_stack(path) for path in ROUTES if path != "/"}


# --- make package: out/web/ for aws s3 sync ----------------------------------------------------------------------
def test_package_copies_the_built_apps_where_the_distribution_serves_them(tmp_path):
    root = tmp_path / "project"
    (root / "web/console/dist/assets").mkdir(parents=True)
    (root / "web/console/dist/index.html").write_text("console")
    (root / "web/console/dist/assets/app.js").write_text("js")
    (root / "web/console/dist/.linli-build").write_text("stamp")  # make web's, not the app's
    (root / "web/resident/dist/build/h5").mkdir(parents=True)
    (root / "web/resident/dist/build/h5/index.html").write_text("resident")
    out = tmp_path / "out"

    line = copy_web_builds(out, root=root)

    assert (out / "web/console/index.html").read_text() == "console"
    assert (out / "web/console/assets/app.js").read_text() == "js"
    assert not (out / "web/console/.linli-build").exists()
    assert (out / "web/r/index.html").read_text() == "resident"
    assert "\n" not in line and "web/console/dist (2 files)" in line and "web/resident/dist/build/h5 (1 files)" in line


def test_package_says_in_one_line_which_app_is_not_built_and_copies_nothing_for_it(tmp_path):
    root = tmp_path / "project"
    (root / "web/resident/dist").mkdir(parents=True)
    (root / "web/resident/dist/index.html").write_text("resident")  # a build without the uni-app h5 folder
    out = tmp_path / "out"

    line = copy_web_builds(out, root=root)

    assert not (out / "web/console").exists() and (out / "web/r/index.html").read_text() == "resident"
    assert "\n" not in line and "console not built: no index.html in web/console/dist" in line
    assert copy_web_builds(out, root=tmp_path / "nothing").startswith("web: nothing to sync (")
