"""Who called what, on the record: the API stage's access log (without personal data), X-Ray tracing on the stage,
and access logs for every bucket in one private, expiring log bucket. Read from the packaged template (cfn-lint
runs over the same template in test_template.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.package import build

pytestmark = pytest.mark.slow

# China's Cybersecurity Law (art. 21) keeps network logs at least six months; a year, then they are deleted.
MIN_RETENTION_DAYS = 180
MAX_RETENTION_DAYS = 400
# $context variables that would put personal data or secrets in the log: the path with its ids and query string
# (phones, names in a search), headers, the body, authorizer claims, the caller's identity.
PERSONAL = ("$context.path", "querystring", "$input", "$method.request", "$context.authorizer",
            "$context.identity.user", "$context.identity.caller", "$context.identity.accountId",
            "$context.identity.cognito", "$context.requestOverride", "$context.identity.clientCert")


@pytest.fixture(scope="module")
def resources(tmp_path_factory) -> dict:
    path = build(tmp_path_factory.mktemp("package") / "out", stage="prod", with_deps=False)
    return json.loads(Path(path).read_text())["Resources"]


def test_the_api_stage_writes_an_access_log_line_per_request_without_personal_data(resources):
    api = resources["RestAPI"]["Properties"]
    setting = api["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    group = resources["ApiAccessLogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert MIN_RETENTION_DAYS <= group["Properties"]["RetentionInDays"] <= MAX_RETENTION_DAYS

    line = json.loads(setting["Format"])  # one JSON object a request (CloudWatch Logs Insights reads it as it is)
    wanted = {"requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "status": "$context.status",
              "httpMethod": "$context.httpMethod", "resourcePath": "$context.resourcePath",
              "requestTime": "$context.requestTime", "responseLatency": "$context.responseLatency"}
    assert wanted.items() <= line.items(), line
    variables = set(re.findall(r"\$[\w.]+", setting["Format"]))
    assert not [v for v in variables if v.startswith(PERSONAL) or "querystring" in v.lower()], variables
    assert "$context.resourcePath" in variables  # the route's template (/v1/tickets/{ticket_id}), not the ids


def test_api_gateway_may_write_the_log_through_the_accounts_cloudwatch_role(resources):
    account = resources["ApiGatewayAccount"]
    assert account["Type"] == "AWS::ApiGateway::Account"
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}
    assert resources["RestAPI"]["DependsOn"] == "ApiGatewayAccount"  # the stage's logging needs the role set first
    role = resources["ApiGatewayCloudWatchRole"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [(s["Principal"], s["Action"]) for s in trust] == [({"Service": "apigateway.amazonaws.com"},
                                                               "sts:AssumeRole")]
    assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}]
    assert "Policies" not in role["Properties"]
    assert role["DeletionPolicy"] == "Retain"  # the account setting outlives the stack: never point it at nothing


def test_the_api_stage_and_its_functions_are_traced(resources):
    assert resources["RestAPI"]["Properties"]["TracingEnabled"] is True
    functions = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert {name: props.get("Tracing") for name, props in functions.items()} == dict.fromkeys(functions, "Active")


def test_every_bucket_is_private_and_encrypted(resources):
    buckets = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    assert {"AttachmentsBucket", "WebBucket", "AccessLogsBucket"} <= set(buckets)
    for name, bucket in buckets.items():
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}, name
        rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert rule["SSEAlgorithm"] in ("AES256", "aws:kms"), name
        assert resources[name]["DeletionPolicy"] == "Retain", name


def test_every_bucket_logs_its_access_to_the_log_bucket_which_alone_may_write_there(resources):
    buckets = {name: r["Properties"] for name, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    logged = {name: bucket["LoggingConfiguration"] for name, bucket in buckets.items() if name != "AccessLogsBucket"}
    assert set(logged) >= {"AttachmentsBucket", "WebBucket"}
    prefixes = {name: config["LogFilePrefix"] for name, config in logged.items()}
    assert all(c["DestinationBucketName"] == {"Ref": "AccessLogsBucket"} for c in logged.values()), logged
    assert all(p.startswith("s3/") and p.endswith("/") for p in prefixes.values())
    assert len(set(prefixes.values())) == len(prefixes)  # one folder each

    statements = resources["AccessLogsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    delivery = next(s for s in statements if s["Effect"] == "Allow")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"} and delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"] == {"Fn::Sub": "${AccessLogsBucket.Arn}/s3/*"}
    assert sorted(a["Fn::GetAtt"][0] for a in delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(logged)
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert [s for s in statements if s["Effect"] == "Allow"] == [delivery]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)


def test_the_log_bucket_keeps_logs_a_year_encrypted_as_log_delivery_requires(resources):
    bucket = resources["AccessLogsBucket"]["Properties"]
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption == {"SSEAlgorithm": "AES256"}  # S3 server access logs are delivered to SSE-S3 buckets only
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}  # no ACLs
    expiry = next(r for r in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r)
    assert expiry["Status"] == "Enabled" and MIN_RETENTION_DAYS <= expiry["ExpirationInDays"] <= MAX_RETENTION_DAYS
    assert "LoggingConfiguration" not in bucket  # logging the log bucket's own writes would loop
    skipped = resources["AccessLogsBucket"]["Metadata"]["checkov"]["skip"]
    assert [s["id"] for s in skipped] == ["CKV_AWS_18"] and skipped[0]["comment"]
