"""Create the table and queues from ``infra/resources.json``: the same definitions AWS gets."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "resources.json"
QUEUES = {"notifications": "NotificationsQueue", "webhooks": "WebhooksQueue", "sla": "SlaQueue",
          "imports": "ImportsQueue", "reports": "ReportsQueue"}
DISPATCH_FAILURES = "event-dispatch-dlq"  # the stream mapping's on-failure queue: ``<prefix>-event-dispatch-dlq``


def template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text(encoding="utf-8"))


def table_definition(resources: dict[str, Any] | None = None) -> dict[str, Any]:
    """``CreateTable`` arguments derived from the CloudFormation resource."""
    props = (resources or template()["Resources"])["LinliTable"]["Properties"]
    stream = props["StreamSpecification"]
    return {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"],
        "BillingMode": props["BillingMode"],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]},
        "SSESpecification": {"Enabled": props["SSESpecification"]["SSEEnabled"]},
    }


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    stream_arn: str
    queue_urls: dict[str, str]
    dead_letter_urls: dict[str, str]
    attachments_bucket: str
    dispatch_failures_url: str = ""  # the stream mapping's on-failure destination (the dispatcher's dead letters)


def create_resources(session: Any, table_name: str, prefix: str) -> LocalResources:
    """Create (or find) the table and queues. Idempotent."""
    resources = template()["Resources"]
    dynamodb = session.client("dynamodb")
    existing = dynamodb.list_tables().get("TableNames", [])
    if table_name not in existing:
        dynamodb.create_table(TableName=table_name, **table_definition(resources))
        ttl = resources["LinliTable"]["Properties"]["TimeToLiveSpecification"]
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification={
            "AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]})
    stream_arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]

    sqs = session.client("sqs")
    queue_urls, dead_letter_urls = {}, {}
    for name, logical in QUEUES.items():
        props = resources[logical]["Properties"]
        dlq_logical = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        dlq_props = resources[dlq_logical]["Properties"]
        dlq_url = sqs.create_queue(QueueName=f"{prefix}-{name}-dlq", Attributes={
            "MessageRetentionPeriod": str(dlq_props["MessageRetentionPeriod"])})["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(QueueName=f"{prefix}-{name}", Attributes={
            "VisibilityTimeout": str(props["VisibilityTimeout"]),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": props["RedrivePolicy"]["maxReceiveCount"]}),
        })["QueueUrl"]
        queue_urls[name], dead_letter_urls[name] = url, dlq_url
    dispatch_failures_url = create_on_failure_queue(sqs, resources, "EventDispatcherStreamMapping",
                                                    f"{prefix}-{DISPATCH_FAILURES}")
    bucket = f"{prefix}-attachments"
    s3 = session.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
        cors = resources["AttachmentsBucket"]["Properties"]["CorsConfiguration"]
        rules = [{("MaxAgeSeconds" if k == "MaxAge" else k): v for k, v in rule.items()} for rule in cors["CorsRules"]]
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    create_secrets_key(session, resources)
    return LocalResources(table_name, stream_arn, queue_urls, dead_letter_urls, bucket, dispatch_failures_url)


def on_failure_queue(resources: dict[str, Any], mapping: str) -> str:
    """The logical id of the queue an event source mapping sends what it gives up on to (its ``OnFailure``)."""
    destination = resources[mapping]["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    return destination["Fn::GetAtt"][0]


def create_on_failure_queue(sqs: Any, resources: dict[str, Any], mapping: str, name: str) -> str:
    """Create (or find) a mapping's on-failure queue with the attributes infra gives it; its URL."""
    props = resources[on_failure_queue(resources, mapping)]["Properties"]
    return sqs.create_queue(QueueName=name, Attributes={
        attribute: str(props[attribute]) for attribute in ("MessageRetentionPeriod", "VisibilityTimeout")
        if attribute in props})["QueueUrl"]


def secrets_key_alias() -> str:
    """The alias the app seals webhook secrets under locally (``LINLI_SECRETS_KMS_KEY`` or the settings' default)."""
    import os

    from chalicelib.core.settings import Settings

    return os.environ.get("LINLI_SECRETS_KMS_KEY") or Settings.secrets_kms_key


def create_secrets_key(session: Any, resources: dict[str, Any] | None = None) -> str:
    """Create (or find) the secrets KMS key and its alias, as ``SecretsKey`` declares it. Idempotent."""
    props = (resources or template()["Resources"])["SecretsKey"]["Properties"]
    alias, kms = secrets_key_alias(), session.client("kms")
    for existing in kms.list_aliases().get("Aliases", []):
        if existing["AliasName"] == alias and existing.get("TargetKeyId"):
            return existing["TargetKeyId"]
    key_id = kms.create_key(Description=props["Description"], KeySpec=props["KeySpec"],
                            KeyUsage=props["KeyUsage"])["KeyMetadata"]["KeyId"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key_id)
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def event_source_settings(logical_id: str) -> dict[str, Any]:
    """Batch size, filters and response types of an event source mapping, as infra declares them."""
    return template()["Resources"][logical_id]["Properties"]
