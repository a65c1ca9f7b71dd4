"""``make run`` keeps its data: a stack killed with SIGKILL restarts with its tickets, tokens, photos and webhook
secrets, re-sends nothing, and dispatches what it had not dispatched yet; ``make reset`` empties the data.

Each stack here is ``python -m devstack`` in a subprocess (its own moto, on its own ports) with a temporary
``LINLI_DATA_DIR``, exactly what ``make run`` starts; the session's shared stack keeps no data at all."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from devstack.stack import free_port
from tests.e2e.test_notifications import daytime_zone
from tests.e2e.test_ticket_lifecycle import PNG, act, upload_photo
from tests.helpers import ApiClient, Tenant
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
RUN = "sys.argv = ['devstack']\nrunpy.run_module('devstack', run_name='__main__')\n"
# A stack that compacts its journal every few requests (instead of every 4 MB).
COMPACTING = "import runpy, sys\nfrom devstack import journal\njournal.COMPACT_BYTES = 20_000\n" + RUN
# A stack that cannot dispatch: its stream handler blocks, so events are written and never sent on.
NO_DISPATCH = ("import runpy, sys, threading\nfrom devstack import journal\n"
               "journal.Journal.dispatcher = lambda self, handler, table: lambda *_: threading.Event().wait()\n" + RUN)


@dataclass
class Stack:
    process: subprocess.Popen
    url: str
    log: Path

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no shutdown code runs
        self.process.wait(timeout=30)


def start(data_dir: Path, log: Path, *, script: str | None = None) -> Stack:
    """``python -m devstack`` on ``data_dir`` (free ports, nothing inherited from the session's stack)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "AWS_", "POWERTOOLS_"))}
    http_port = free_port()
    env.update(LINLI_DATA_DIR=str(data_dir), LINLI_HTTP_PORT=str(http_port), LINLI_AWS_PORT=str(free_port()),
               LINLI_STAGE="local", LINLI_PASSWORD_HASH_PROFILE="fast")
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "devstack"]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Stack(process, f"http://127.0.0.1:{http_port}", log)


def wait_until_up(stack: Stack, timeout: float = 120) -> Stack:
    """Until the banner is out (the stack is serving), or fail with what it printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            pytest.fail(f"the stack exited with {stack.process.returncode}:\n{stack.log.read_text()}")
        if "Press Ctrl-C to stop." in stack.log.read_text():
            return stack
        time.sleep(0.2)
    pytest.fail(f"the stack did not start within {timeout:g} s:\n{stack.log.read_text()}")


@pytest.fixture
def stacks(tmp_path):
    started: list[Stack] = []

    def run(data_dir: Path, script: str | None = None) -> Stack:
        started.append(start(data_dir, tmp_path / f"stack-{len(started)}.log", script=script))
        return wait_until_up(started[-1])

    yield run
    for stack in started:
        if stack.process.poll() is None:
            stack.kill()


@pytest.fixture
def receiver():
    instance = Receiver().start()
    yield instance
    instance.stop()


def resident_in(api: ApiClient, tenant: Tenant, phone: str) -> tuple[dict, str]:
    """A community, a unit and a resident of it signed in by SMS code: (unit, resident token)."""
    community = api.post("/v1/communities", token=tenant.token, json={"name": "翠苑"}).json()
    building = api.post(f"/v1/communities/{community['id']}/buildings", token=tenant.token, json={"name": "3栋"}).json()
    unit = api.post(f"/v1/communities/{community['id']}/units", token=tenant.token,
                    json={"building_id": building["id"], "entrance": "2单元", "number": "1201"}).json()
    assert api.post("/v1/residents", token=tenant.token, json={"name": "陈阿姨", "phone": phone, "units": [
        {"unit_id": unit["id"], "community_id": community["id"]}]}).status_code == 201
    assert api.post(f"/v1/public/tenants/{tenant.slug}/otp", json={"phone": phone}).status_code == 202
    code = wait_for_messages(api, phone, 1)[0]["params"]["code"]
    verified = api.post(f"/v1/public/tenants/{tenant.slug}/otp/verify", json={"phone": phone, "code": code})
    assert verified.status_code == 200, verified.text
    return {"community_id": community["id"], "unit_id": unit["id"]}, verified.json()["access_token"]


def messages_to(api: ApiClient, phone: str) -> list[dict]:
    return api.get("/v1/dev/messages", params={"to": phone}).json()["items"]


def wait_for_messages(api: ApiClient, phone: str, count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(found := messages_to(api, phone)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def wait_for_inbox(api: ApiClient, token: str, event_type: str, timeout: float = 30) -> list[dict]:
    """The person's inbox once it holds a notification of ``event_type`` (or as it is at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        items = api.get("/v1/me/notifications", token=token).json()["items"]
        if any(n["event_type"] == event_type for n in items) or time.monotonic() > deadline:
            return items
        time.sleep(0.2)


def wait_until_delivered(api: ApiClient, tenant: Tenant, hook_id: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = api.get(f"/v1/webhooks/{hook_id}/deliveries", token=tenant.token).json()["items"]
        if len(log) >= count and all(d["status"] == "succeeded" for d in log):
            return
        time.sleep(0.2)
    pytest.fail(f"the deliveries did not succeed: {log}")


def generation(data_dir: Path) -> int:
    """How many times the journal on ``data_dir`` was compacted (at start, and whenever it outgrew its size)."""
    [journal] = data_dir.glob("journal-*.jsonl")
    return int(journal.stem.split("-")[1])


def events_queued_since_start(data_dir: Path) -> list[str]:
    """The types of the events the dispatcher put on a queue since the stack on ``data_dir`` started: its
    journal (compacted at start) records every message that entered a queue."""
    [journal] = data_dir.glob("journal-*.jsonl")
    bodies = [json.loads(m["body"]) for line in journal.read_text(encoding="utf-8").splitlines()
              if (entry := json.loads(line))["t"] == "sqs" for m in entry["add"]]
    return [b["type"] for b in bodies if "occurred_at" in b]                    # events, not webhook attempts


def own_path() -> str:
    """A receiver path of this test's own: a port the receiver reuses may still get a retry that another test's
    stack addressed to the receiver it had there before."""
    return f"/hook-{uuid.uuid4().hex[:12]}"


def test_a_killed_stack_restarts_with_its_tickets_tokens_photos_and_webhooks_and_sends_nothing_twice(
        tmp_path, stacks, receiver):
    data = tmp_path / "data"
    first = stacks(data, COMPACTING)
    api = ApiClient(first.url)
    tenant = api.new_tenant()
    assert api.patch("/v1/tenant", token=tenant.token, json={"timezone": daytime_zone()}).status_code == 200
    phone = "1370000" + str(free_port())[-4:]
    location, resident_token = resident_in(api, tenant, phone)
    _, agent_token = api.add_staff(tenant, "agent")
    path = own_path()
    hook = api.post("/v1/webhooks", token=tenant.token, json={
        "url": receiver.base_url + path, "event_types": ["ticket.*"]}).json()
    photo = upload_photo(api, resident_token)
    ticket = api.post("/v1/me/tickets", token=resident_token, json={
        "kind": "repair", "category": "水电", "description": "厨房水管漏水", "location": location,
        "attachments": [photo]}).json()
    act(api, agent_token, ticket["id"], "acknowledge")
    sent = wait_for_messages(api, phone, 2)                                      # the code, then "已受理"
    assert "已受理" in sent[0]["body"], sent
    before = receiver.wait_count(lambda r: r.path == path, 2)                    # created, acknowledged
    assert len(before) == 2
    wait_until_delivered(api, tenant, hook["id"], 2)                             # and their outcomes recorded
    assert generation(data) > 3                                                  # compacted as it went

    first.kill()
    second = stacks(data)
    api = ApiClient(second.url)

    kept = api.get(f"/v1/tickets/{ticket['id']}", token=agent_token)            # a token from before the kill
    assert kept.status_code == 200, kept.text
    assert kept.json()["status"] == "acknowledged"
    assert requests.get(kept.json()["attachments"][0]["url"], timeout=10).content == PNG
    mine = api.get("/v1/me/tickets", token=resident_token)
    assert mine.status_code == 200 and [t["id"] for t in mine.json()["items"]] == [ticket["id"]]
    assert api.post("/v1/auth/login", json={"tenant_slug": "demo", "email": "admin@demo.test",  # seeded at first
                                            "password": "Linli-demo-2026"}).status_code == 200

    act(api, agent_token, ticket["id"], "resolve", note="已更换水管")             # a new event, after the old ones
    got = receiver.wait_count(lambda r: r.path == path, 3)
    verified = [Webhook(hook["secret"]).verify(r.body, r.headers)["type"] for r in got]  # the secret sealed before
    assert sorted(verified[:2]) == ["ticket.acknowledged", "ticket.created"] and verified[2:] == ["ticket.resolved"]
    resent = wait_for_messages(api, phone, 1)
    assert len(resent) == 1 and "已处理完成" in resent[0]["body"], resent        # "已受理" was not sent again
    inbox = wait_for_inbox(api, resident_token, "ticket.resolved")  # filed after the SMS, in the same handler
    assert sorted(n["event_type"] for n in inbox) == ["ticket.acknowledged", "ticket.resolved"], inbox  # once each
    queued = events_queued_since_start(data)             # the stream is in order: the old events would be before
    assert "ticket.resolved" in queued and not {"ticket.created", "ticket.acknowledged"} & set(queued), queued
    assert len([r for r in receiver.requests if r.path == path]) == 3


def test_an_event_written_but_not_dispatched_before_the_kill_is_dispatched_after_the_restart(
        tmp_path, stacks, receiver):
    data = tmp_path / "data"
    data.mkdir()
    (data / "seeded").touch()                                                    # no demo tenant: a quicker start
    first = stacks(data, NO_DISPATCH)
    api = ApiClient(first.url)
    tenant = api.new_tenant()
    path = own_path()
    hook = api.post("/v1/webhooks", token=tenant.token, json={
        "url": receiver.base_url + path, "event_types": ["tenant.updated"]}).json()
    assert api.patch("/v1/tenant", token=tenant.token, headers={"If-Match": "1"},
                     json={"branding": {"display_name": "荷塘管家"}}).status_code == 200
    assert not [r for r in receiver.requests if r.path == path]                 # not dispatched
    assert "tenant.updated" not in events_queued_since_start(data)

    first.kill()
    stacks(data)

    [delivered] = receiver.wait_count(lambda r: r.path == path, 1)
    assert Webhook(hook["secret"]).verify(delivered.body, delivered.headers)["type"] == "tenant.updated"
    assert "tenant.updated" in events_queued_since_start(data)                   # by the restarted stack


def test_make_reset_deletes_the_stacks_data_and_nothing_else(tmp_path, monkeypatch, capsys):
    from devstack.__main__ import main
    from devstack.journal import DataDirBusyError, Journal, reset_data, signing_keys

    data = tmp_path / "data"
    keys = signing_keys(data)
    assert signing_keys(data) == keys                                            # generated once, then read back
    for name in ("snapshot-3.jsonl", "journal-3.jsonl", "seeded", "blobs/" + "0" * 64):
        (data / name).parent.mkdir(exist_ok=True)
        (data / name).write_text("{}\n")
    journal = Journal(data)                                                      # what a running stack holds
    with pytest.raises(DataDirBusyError):
        reset_data(data)
    with pytest.raises(DataDirBusyError):
        Journal(data)                                                            # nor can a second stack
    journal.close()
    (data / "notes.txt").write_text("mine")
    assert reset_data(data) == 5
    assert sorted(p.name for p in data.iterdir()) == ["notes.txt"]               # only the stack's files go
    assert signing_keys(data) != keys                                            # fresh keys: a fresh start
    (data / "notes.txt").unlink()

    monkeypatch.setenv("LINLI_DATA_DIR", str(data))                              # what `make reset` runs
    assert main(["reset"]) == 0
    assert not data.exists()
    assert "the next make run starts fresh" in capsys.readouterr().out


def test_the_banner_says_where_the_data_is_and_how_to_clear_it():
    from devstack.banner import banner

    text = banner("http://127.0.0.1:8000", "http://127.0.0.1:4566", "linli-local", log_level="WARNING",
                  data_dir=".linli/")
    assert "Data             .linli/   (kept across restarts; make reset clears it)" in text
    assert "Data " not in banner("http://127.0.0.1:8000", "http://127.0.0.1:4566", "linli-local",
                                 log_level="WARNING")
