"""The deployable template: `chalice package` merged with infra/, linted and read."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.resources import table_definition, template
from infra.package import build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sam(tmp_path_factory) -> tuple[Path, dict]:
    path = build(tmp_path_factory.mktemp("package") / "out", stage="prod", with_deps=False)
    return path, json.loads(path.read_text())


def test_cfn_lint_passes(sam):
    path, _ = sam
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(path)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_has_stream_pitr_encryption_ttl_and_gsis(sam):
    _, doc = sam
    table = doc["Resources"]["LinliTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2", "GSI3", "GSI4", "DueIndex"}
    assert doc["Resources"]["LinliTable"]["DeletionPolicy"] == "Retain"


def test_every_queue_has_a_dead_letter_queue_and_an_alarm(sam):
    _, doc = sam
    resources = doc["Resources"]
    queues = {k: v for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue" and "DeadLetter" not in k}
    assert set(queues) == {"NotificationsQueue", "WebhooksQueue", "SlaQueue", "ImportsQueue", "ReportsQueue"}
    alarms = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::CloudWatch::Alarm"]
    for name, queue in queues.items():
        dlq = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert resources[dlq]["Type"] == "AWS::SQS::Queue"
        assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] >= 3
        assert any(a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dlq, "QueueName"]} for a in alarms), name


def test_event_source_mappings_report_partial_batch_failures(sam):
    _, doc = sam
    mappings = [v["Properties"] for v in doc["Resources"].values() if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    stream = next(m for m in mappings if "StreamArn" in json.dumps(m["EventSourceArn"]))
    assert stream["FunctionName"] == {"Ref": "EventDispatcher"}
    assert doc["Resources"]["EventDispatcher"]["Properties"]["Handler"] == "app.event_dispatcher"


def test_functions_get_table_and_queue_names_from_the_template(sam):
    _, doc = sam
    variables = doc["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["LINLI_TABLE_NAME"] == {"Ref": "LinliTable"}
    assert variables["LINLI_SLA_QUEUE_URL"] == {"Ref": "SlaQueue"}


def test_policies_are_scoped_to_our_resources(sam):
    _, doc = sam
    policies = [v["Properties"] for v in doc["Resources"].values() if v["Type"] == "AWS::IAM::Policy"]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    for statement in statements:
        assert statement["Resource"] != "*", statement
        assert not any(a.endswith(":*") or a == "*" for a in statement["Action"]), statement
    publish = next(s for s in statements if s.get("Sid") == "PublishEvents")
    assert publish["Action"] == ["sqs:SendMessage"]


def test_gateway_errors_take_the_api_error_shape(sam):
    _, doc = sam
    missing = doc["Resources"]["MissingRouteResponse"]["Properties"]
    assert missing["StatusCode"] == "404"
    assert '"route_not_found"' in missing["ResponseTemplates"]["application/json"]


def test_local_stack_creates_its_table_from_the_same_definition():
    props = template()["Resources"]["LinliTable"]["Properties"]
    local = table_definition()
    assert local["KeySchema"] == props["KeySchema"]
    assert local["GlobalSecondaryIndexes"] == props["GlobalSecondaryIndexes"]
    assert local["StreamSpecification"]["StreamViewType"] == props["StreamSpecification"]["StreamViewType"]


def test_auto_close_runs_on_a_schedule_with_data_access(sam):
    _, doc = sam
    resources = doc["Resources"]
    assert resources["AutoClose"]["Properties"]["Handler"] == "app.auto_close"
    events = resources["AutoClose"]["Properties"]["Events"]
    assert any(e["Properties"].get("Schedule") == "rate(1 hour)" for e in events.values())
    roles = resources["DataAccessPolicy"]["Properties"]["Roles"]
    assert {"Ref": "AutoCloseRole"} in roles and {"Ref": "ApiHandlerRole"} in roles
    sweep_events = resources["SlaSweep"]["Properties"]["Events"]
    assert any(e["Properties"].get("Schedule") == "rate(1 minute)" for e in sweep_events.values())
    mapping = resources["SlaConsumerQueueMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "SlaConsumer"} and mapping["EventSourceArn"] == {
        "Fn::GetAtt": ["SlaQueue", "Arn"]}


def test_webhooks_consumer_is_wired_with_least_privilege(sam):
    _, doc = sam
    resources = doc["Resources"]
    assert resources["WebhooksConsumer"]["Properties"]["Handler"] == "app.webhooks_consumer"
    assert resources["WebhooksConsumer"]["Properties"]["Timeout"] >= 5 * 15  # a batch of 5 slow receivers
    mapping = resources["WebhooksConsumerQueueMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["WebhooksQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert {"Ref": "WebhooksConsumerRole"} in resources["DataAccessPolicy"]["Properties"]["Roles"]
    consumer = resources["WebhooksConsumerPolicy"]["Properties"]
    assert consumer["Roles"] == [{"Ref": "WebhooksConsumerRole"}]
    assert all(s["Resource"] == {"Fn::GetAtt": ["WebhooksQueue", "Arn"]}
               for s in consumer["PolicyDocument"]["Statement"])
    api = resources["WebhooksApiPolicy"]["Properties"]
    assert api["PolicyDocument"]["Statement"][0]["Action"] == ["sqs:SendMessage"]
    email = next(s for s in resources["NotificationsConsumerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
                 if s["Sid"] == "SendEmail")
    assert email["Action"] == ["ses:SendEmail"]


def test_webhook_secrets_have_their_own_rotating_kms_key_only_webhook_functions_use(sam):
    _, doc = sam
    resources = doc["Resources"]
    key = resources["SecretsKey"]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert doc["Globals"]["Function"]["Environment"]["Variables"]["LINLI_SECRETS_KMS_KEY"] == {
        "Fn::GetAtt": ["SecretsKey", "Arn"]}
    key_arn = {"Fn::GetAtt": ["SecretsKey", "Arn"]}
    uses: dict[str, set[str]] = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if any(a.startswith("kms:") for a in statement["Action"]):
                assert statement["Resource"] == key_arn, statement
                for role in resource["Properties"]["Roles"]:
                    uses.setdefault(role["Ref"], set()).update(statement["Action"])
    assert uses == {"ApiHandlerRole": {"kms:GenerateDataKey"}, "WebhooksConsumerRole": {"kms:Decrypt"}}
    granted = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert all(not a.startswith(("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt"))
               for a in granted["KeyAdministration"]["Action"])  # the account administers, it does not decrypt
    assert granted["OpenWebhookSecrets"]["Principal"] == {"AWS": {"Fn::GetAtt": ["WebhooksConsumerRole", "Arn"]}}
    assert granted["OpenWebhookSecrets"]["Action"] == ["kms:Decrypt"]
    assert granted["SealWebhookSecrets"]["Action"] == ["kms:GenerateDataKey"]


def test_the_lambda_package_holds_only_runtime_code(sam):
    """``make package`` ships app.py and chalicelib/: no embedded stack, emulator, tests or bench."""
    import zipfile

    path, _ = sam
    names = zipfile.ZipFile(path.parent / "deployment.zip").namelist()
    assert "app.py" in names and "chalicelib/bootstrap.py" in names
    dev_only = ("devstack/", "tests/", "bench/", "moto/", "werkzeug/", "chalicelib/local/")
    assert [n for n in names if n.startswith(dev_only) or "/moto/" in n or "/werkzeug/" in n] == []
    sources = [n for n in names if n.endswith(".py") and n.startswith(("app.py", "chalicelib/"))]
    for name in sources:
        text = zipfile.ZipFile(path.parent / "deployment.zip").read(name).decode()
        assert "import moto" not in text and "from moto" not in text and "devstack" not in text, name


def test_the_lambda_package_carries_the_bytecode_of_every_module(sam):
    """A new container imports compiled modules instead of compiling each one on its first request: every module of
    app.py and chalicelib/ has its ``.pyc`` for the runtime's Python, never checked against the source."""
    import importlib.util
    import sys
    import zipfile

    path, _ = sam
    archive = zipfile.ZipFile(path.parent / "deployment.zip")
    names = set(archive.namelist())
    tag = sys.implementation.cache_tag  # cpython-311: the runtime's (check_interpreter refuses any other Python)
    sources = [n for n in names if n.endswith(".py") and n.startswith(("app.py", "chalicelib/", "chalice/"))]
    assert len(sources) > 50
    for source in sources:
        folder, _, module = source.rpartition("/")
        compiled = f"{folder + '/' if folder else ''}__pycache__/{module[:-3]}.{tag}.pyc"
        assert compiled in names, source
        header = archive.read(compiled)[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, source
        assert int.from_bytes(header[4:8], "little") == 0b01, source  # hash-based, source never checked


def test_every_function_runs_on_the_projects_python(sam):
    """The runtime comes from the project (pyproject's requires-python), never from the packaging laptop."""
    _, doc = sam
    functions = {name: resource["Properties"] for name, resource in doc["Resources"].items()
                 if resource["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")}
    assert {"APIHandler", "EventDispatcher", "SlaSweep", "SlaConsumer", "AutoClose", "NotificationsConsumer",
            "WebhooksConsumer", "ImportsConsumer"} <= set(functions)
    assert {name: props.get("Runtime") for name, props in functions.items()} == dict.fromkeys(functions, "python3.11")
    assert doc.get("Globals", {}).get("Function", {}).get("Runtime", "python3.11") == "python3.11"


def test_routes_carry_v1_once_and_the_stage_is_not_v1(sam):
    """Deployed URLs read …/v1/tickets once: the stage has a neutral name, the routes carry the version."""
    _, doc = sam
    rest_api = doc["Resources"]["RestAPI"]["Properties"]
    stage = rest_api["StageName"]
    assert stage != "v1" and not stage.rstrip("/").endswith("v1"), stage
    paths = list(rest_api["DefinitionBody"]["paths"])
    assert paths and all(p.startswith("/v1/") and "/v1/" not in p[len("/v1"):] for p in paths), paths
    endpoint = doc["Outputs"]["EndpointURL"]["Value"]["Fn::Sub"]
    assert endpoint.endswith(f"/{stage}/") and "/v1" not in endpoint


def test_no_deployed_stage_is_named_v1():
    config = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "config.json").read_text())
    stages = {name: stage.get("api_gateway_stage", "api") for name, stage in config["stages"].items()}
    assert {name: s for name, s in stages.items() if s == "v1" or s.endswith("/v1")} == {}


def test_bytecode_is_added_once_per_module_and_sources_are_kept(tmp_path):
    """A zip that already held a (stale) ``.pyc`` ends with exactly one, freshly compiled; sources are untouched and a
    file that is not Python 3.11 stays source only."""
    import importlib.util
    import sys
    import zipfile

    from infra.package import with_bytecode

    archive = tmp_path / "deployment.zip"
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("pkg/__init__.py", "")
        z.writestr("pkg/mod.py", "VALUE = 42\n")
        z.writestr(f"pkg/__pycache__/mod.{tag}.pyc", b"stale")
        z.writestr("pkg/py2.py", "print 'old'\n")

    assert with_bytecode(archive) == 2

    got = zipfile.ZipFile(archive)
    names = got.namelist()
    assert sorted(names) == sorted(["pkg/__init__.py", "pkg/mod.py", "pkg/py2.py",
                                    f"pkg/__pycache__/__init__.{tag}.pyc", f"pkg/__pycache__/mod.{tag}.pyc"])
    assert got.read("pkg/mod.py") == b"VALUE = 42\n"
    header = got.read(f"pkg/__pycache__/mod.{tag}.pyc")[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(header[4:8], "little") == 0b01
