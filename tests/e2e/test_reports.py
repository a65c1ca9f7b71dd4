"""The reports against a seeded month on the local stack: the figures the API returns equal a small reference
implementation of DOMAIN.md's KPIs run over the raw event items — to the ticket, medians and p90 exact — and stay
equal after the whole event stream is delivered again, shuffled; other tenants see none of it."""
from __future__ import annotations

import math
import random
import statistics
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib import bootstrap
from chalicelib.core.clock import from_rfc3339, utcnow
from chalicelib.storage import keys
from chalicelib.storage.unit_of_work import EventItem
from devstack.demo import DEMO_PASSWORD
from devstack.seedmonth import fill, new_tenant
from tests.helpers import ApiClient, assert_error

pytestmark = pytest.mark.e2e

TICKETS = 32  # ~1.2 s each on the emulator, which every consumer of their events shares
DAYS = 30
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def month(stack):
    now = utcnow()
    tenant = new_tenant()
    start = (now - timedelta(days=DAYS)).replace(hour=0, minute=5, second=0, microsecond=0)
    outcome = fill(tenant.world, start, DAYS, TICKETS, seed=20261128, until=now)
    return {"tenant_id": tenant.world.tenant_id, "slug": tenant.slug, "outcome": outcome,
            "communities": tenant.community_ids, "start": start, "now": now, "admin_email": tenant.admin_email}


def admin_token(api: ApiClient, month: dict[str, Any]) -> str:
    response = api.post("/v1/auth/login", json={"tenant_slug": month["slug"], "email": month["admin_email"],
                                                "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def drained(stack) -> None:
    stack.settle("reports", timeout=180)


def ticket_events(tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
    pk = keys.event_partition(tenant_id, "ticket", ticket_id)
    return [{"type": m["type"], "occurred_at": m["occurred_at"], "actor": m["actor"] or {}, "changes": m["changes"],
             "data": m["data"], "subject": {"type": "ticket", "id": ticket_id}, "tenant_id": tenant_id}
            for e in EventItem.query(pk, EventItem.SK.startswith(keys.EVENT_PREFIX), consistent_read=True)
            for m in e.to_messages()]  # an item holds each event its change recorded about the ticket


# --- the reference: DOMAIN.md's KPIs computed straight from the event items, one ticket at a time --------------
def day(stamp: str) -> str:
    return from_rfc3339(stamp).astimezone(SHANGHAI).date().isoformat()


def seconds(start: str, end: str) -> int:
    return max(0, int((from_rfc3339(end) - from_rfc3339(start)).total_seconds()))


def reference(logs: list[list[dict[str, Any]]], first: str, last: str) -> dict[str, Any]:
    within = lambda stamp: first <= day(stamp) <= last  # noqa: E731
    created = 0
    channels: dict[str, int] = {}
    kinds: dict[str, int] = {}
    first_responses, resolutions = [], []
    met = breached = complaints = complaints_closed = closed = complete = followed = 0
    ratings: list[int] = []
    reopens = 0
    for log in logs:
        born = log[0]
        kind = born["data"]["kind"]
        for e in log:
            if e["changes"].get("kind", {}).get("after"):
                kind = e["changes"]["kind"]["after"]
        status = next(e["data"]["status"] for e in reversed(log) if e["type"].startswith("ticket.")
                      and "status" in e["data"])
        merged = any(e["changes"].get("merged_into", {}).get("after") for e in log)
        acks = [e for e in log if e["changes"].get("acknowledged_at", {}).get("after")]
        if within(born["occurred_at"]):
            created += 1
            channels[born["data"]["channel"]] = channels.get(born["data"]["channel"], 0) + 1
            kinds[kind] = kinds.get(kind, 0) + 1
            if acks:
                first_responses.append(seconds(born["occurred_at"], acks[0]["changes"]["acknowledged_at"]["after"]))
            if kind == "complaint" and not merged:
                complaints += 1
                complaints_closed += status == "closed"
        breach = [e for e in log if e["type"] == "sla.breached" and e["data"]["clock"] == "first_response"]
        in_time = [e for e in log if e["type"] == "sla.met" and e["data"]["clock"] == "first_response"
                   and not e["data"].get("late")]
        if breach and within(breach[0]["data"].get("due_at") or breach[0]["occurred_at"]):
            breached += 1
        elif not breach and in_time and within(in_time[0]["occurred_at"]):
            met += 1
        resolves = [e for e in log if e["type"] == "ticket.resolved"]
        resolutions += [seconds(born["occurred_at"], e["occurred_at"]) for e in resolves if within(e["occurred_at"])]
        reopen_events = [e for e in log if e["type"] == "ticket.reopened"
                         or (e["type"] == "ticket.rated" and e["data"].get("reopened"))]
        reopens += sum(within(e["occurred_at"]) for e in reopen_events)
        rated = [e for e in log if e["type"] == "ticket.rated"]
        ratings += [e["data"]["score"] for e in rated if within(e["occurred_at"])]
        if status == "closed" and not merged:
            closing = None  # when it last became closed
            for e in log:
                if e["type"].startswith("ticket.") and "status" in e["data"]:
                    closing = (closing or e["occurred_at"]) if e["data"]["status"] == "closed" else None
            if within(closing):
                closed += 1
                last_resolve = resolves[-1] if resolves and (not reopen_events or resolves[-1]["occurred_at"]
                                                            > reopen_events[-1]["occurred_at"]) else None
                note = bool(last_resolve and last_resolve["changes"]["resolution"]["after"].get("note"))
                handler = any(e["changes"].get("assignee_id", {}).get("after") for e in log) or last_resolve
                visited = any(e["type"] == "ticket.return_visited" for e in log)
                complete += bool(acks and handler and note and last_resolve and (rated or visited))
                followed += bool(rated or visited)
    ordered_fr, ordered_res = sorted(first_responses), sorted(resolutions)
    p90 = lambda xs: xs[math.ceil(0.9 * len(xs)) - 1] if xs else None  # noqa: E731
    rate = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {
        "created": created, "intake_by_channel": dict(sorted(channels.items())),
        "intake_by_kind": dict(sorted(kinds.items())),
        "first_response": {"count": len(ordered_fr), "median_seconds": statistics.median(ordered_fr)
                           if ordered_fr else None, "p90_seconds": p90(ordered_fr)},
        "first_response_compliance": {"met": met, "breached": breached, "rate": rate(met, met + breached)},
        "complaints": (complaints, complaints_closed), "completeness": (closed, complete),
        "satisfaction": (len(ratings), round(sum(ratings) / len(ratings), 4) if ratings else None,
                         rate(sum(s >= 4 for s in ratings), len(ratings)), rate(followed, closed)),
        "resolution": {"count": len(ordered_res), "median_seconds": statistics.median(ordered_res)
                       if ordered_res else None, "p90_seconds": p90(ordered_res)},
        "reopen_rate": rate(reopens, len(ordered_res)),
    }


def as_reference(total: dict[str, Any]) -> dict[str, Any]:
    s = total["satisfaction"]
    return {
        "created": total["created"], "intake_by_channel": total["intake_by_channel"],
        "intake_by_kind": total["intake_by_kind"],
        "first_response": total["first_response"],
        "first_response_compliance": total["sla_compliance"]["first_response"],
        "complaints": (total["complaints"]["created"], total["complaints"]["closed"]),
        "completeness": (total["completeness"]["closed"], total["completeness"]["complete"]),
        "satisfaction": (s["ratings"], s["mean_rating"], s["csat"], s["return_visit_rate"]),
        "resolution": total["resolution"], "reopen_rate": total["reopen_rate"],
    }


def figures(api: ApiClient, token: str, first: str, last: str, **params: str) -> dict[str, Any]:
    response = api.get("/v1/reports/figures", token=token, params={"from": first, "to": last, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_figures_equal_the_kpis_recomputed_from_the_event_log_even_after_a_shuffled_replay(stack, api, month):
    outcome = month["outcome"]
    assert len(outcome.ticket_ids) >= TICKETS * 0.9 and outcome.actions["rate"] > 8 and outcome.actions["reopen"]
    assert outcome.actions["auto_close"] and outcome.actions["return_visit"]
    drained(stack)
    token = admin_token(api, month)
    first = month["start"].astimezone(SHANGHAI).date().isoformat()
    last = month["now"].astimezone(SHANGHAI).date().isoformat()
    logs = [ticket_events(month["tenant_id"], t) for t in outcome.ticket_ids]
    expected = reference(logs, first, last)
    report = figures(api, token, first, last, granularity="week")
    assert as_reference(report["total"]) == expected
    assert expected["first_response_compliance"]["breached"] > 0 and expected["complaints"][0] > 0
    assert sum(p["created"] for p in report["periods"]) == expected["created"] == len(outcome.ticket_ids)
    assert report["periods"][-1]["backlog_at_end"] == sum(
        next(e["data"]["status"] for e in reversed(log) if "status" in e["data"]) not in ("closed", "cancelled")
        for log in logs)
    assert report["periods"][-1]["overdue_at_end"] == sum(
        any(e["type"] == "sla.breached" and e["data"]["clock"] == "resolution" for e in log)
        and next(e["data"]["status"] for e in reversed(log) if "status" in e["data"]) not in ("closed", "cancelled")
        for log in logs)
    middle = (month["start"] + timedelta(days=10)).astimezone(SHANGHAI).date().isoformat()
    one_day = figures(api, token, middle, middle)
    assert as_reference(one_day["total"]) == reference(logs, middle, middle)
    cuiyuan = month["communities"][0]
    mine = [log for log in logs if log[0]["data"]["community_id"] == cuiyuan]
    assert as_reference(figures(api, token, first, last, community_id=cuiyuan)["total"]) == reference(
        mine, first, last)

    # every event delivered again, shuffled: nothing changes; a rebuild from the log finds nothing to fix
    messages = [e for log in logs for e in log]
    random.Random(5).shuffle(messages)
    maintainer = bootstrap.rollup_maintainer()
    for message in messages:
        maintainer.handle(message, utcnow())
    assert figures(api, token, first, last, granularity="week") == report
    assert maintainer.rebuild(month["tenant_id"]) == {"tickets": len(outcome.ticket_ids), "changed": 0}


def test_a_ninety_day_dashboard_reads_rollups_bounded_by_days_and_groups_not_tickets(stack, api, month):
    drained(stack)
    token = admin_token(api, month)
    last = month["now"].astimezone(SHANGHAI).date()
    report = figures(api, token, (last - timedelta(days=89)).isoformat(), last.isoformat(), granularity="month")
    communities, kinds = 2, 5
    assert report["items_read"] <= 90 * communities * kinds + 1


def test_staff_table_and_community_ranking(stack, api, month):
    drained(stack)
    token = admin_token(api, month)
    first = month["start"].astimezone(SHANGHAI).date().isoformat()
    last = month["now"].astimezone(SHANGHAI).date().isoformat()
    staff = api.get("/v1/reports/staff", token=token, params={"from": first, "to": last}).json()["items"]
    assert len(staff) == 5 and sum(r["resolved"] for r in staff) == figures(api, token, first, last)["total"][
        "resolution"]["count"]
    ranking = api.get("/v1/reports/communities", token=token, params={"from": first, "to": last}).json()["items"]
    assert [r["rank"] for r in ranking] == [1, 2] and {r["name"] for r in ranking} == {"翠苑", "荷塘月色"}
    assert all(r["units"] == 6 and r["score"] is not None for r in ranking)
    assert ranking[0]["score"] >= ranking[1]["score"]


@pytest.mark.parametrize("route", ["/v1/reports/figures", "/v1/reports/staff", "/v1/reports/communities"])
def test_another_tenant_sees_nothing_of_it_and_its_community_ids_are_not_found(stack, api, month, route):
    drained(stack)
    other = api.new_tenant()
    first = month["start"].astimezone(SHANGHAI).date().isoformat()
    last = month["now"].astimezone(SHANGHAI).date().isoformat()
    answer = api.get(route, token=other.token, params={"from": first, "to": last})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    if route.endswith("figures"):
        assert body["total"]["created"] == 0 and body["periods"][-1]["backlog_at_end"] == 0
        assert_error(api.get(route, token=other.token, params={"from": first, "to": last,
                                                               "community_id": month["communities"][0]}), 404)
    else:
        assert body["items"] == []


def test_reports_need_reports_read_and_a_sane_range(stack, api, month):
    tenant = api.new_tenant()
    _, technician = api.add_staff(tenant, "technician")
    assert_error(api.get("/v1/reports/figures", token=technician, params={"from": "2026-11-01", "to": "2026-11-02"}),
                 403)
    assert_error(api.get("/v1/reports/figures", token=tenant.token, params={"from": "2026-11-02",
                                                                          "to": "2026-11-01"}), 422)
    assert_error(api.get("/v1/reports/figures", token=tenant.token, params={"from": "2025-01-01",
                                                                          "to": "2026-11-01"}), 422)
    assert_error(api.get("/v1/reports/figures", token=tenant.token, params={"from": "yesterday",
                                                                          "to": "2026-11-01"}), 422)


def test_fee_rates_from_a_billing_key_and_a_file_stand_beside_satisfaction(stack, api, month):
    drained(stack)
    token = admin_token(api, month)
    cuiyuan, hetang = month["communities"]
    last = month["now"].astimezone(SHANGHAI).date()
    this_month, first_month = last.isoformat()[:7], month["start"].astimezone(SHANGHAI).date().isoformat()[:7]
    key = api.post("/v1/api-keys", token=token, json={"name": "收费系统", "scopes": ["fees:write", "reports:read"]})
    assert key.status_code == 201, key.text
    billing = {"Authorization": f"Bearer {key.json()['key']}"}
    put = api.request("PUT", "/v1/reports/fee-rates", headers=billing, json={"items": [
        {"community_id": cuiyuan, "month": this_month, "collection_rate": 0.93, "renewal_rate": 0.88},
        {"community_id": hetang, "month": this_month, "collection_rate": 0.81}]})
    assert put.status_code == 200 and put.json() == {"recorded": 2}, put.text
    csv_file = "\n".join(["小区,月份,收缴率,续费率", f"翠苑,{first_month},95%,90%", f"荷塘月色,{first_month},0.8,",
                          f"不存在,{first_month},0.5,", "翠苑,2026-13,0.5,", ""])
    imported = api.post("/v1/reports/fee-rates/import", token=token, data=csv_file.encode("utf-8-sig"),
                        headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["recorded"] == 2
    assert [(e["line"], e["field"]) for e in imported.json()["errors"]] == [(4, "community"), (5, "month")]
    listed = api.get("/v1/reports/fee-rates", token=token, params={"from_month": first_month,
                                                                   "to_month": this_month}).json()["items"]
    assert {(r["community_id"], r["month"], r["collection_rate"]) for r in listed} >= {
        (cuiyuan, this_month, 0.93), (hetang, this_month, 0.81), (cuiyuan, first_month, 0.95)}
    assert next(r for r in listed if r["community_id"] == cuiyuan and r["month"] == this_month)["updated_by"] == \
        key.json()["id"]

    report = api.get("/v1/reports/satisfaction-renewal", token=token,
                     params={"from_month": first_month, "to_month": this_month})
    assert report.status_code == 200, report.text
    body = report.json()
    both = [r for r in body["rows"] if r["csat"] is not None and r["collection_rate"] is not None]
    assert body["correlation"]["collection_rate"]["pairs"] == len(both) >= 2
    logs = [ticket_events(month["tenant_id"], t) for t in month["outcome"].ticket_ids]
    scores = [e["data"]["score"] for log in logs for e in log if e["type"] == "ticket.rated"
              and log[0]["data"]["community_id"] == cuiyuan and day(e["occurred_at"])[:7] == this_month]
    row = next(r for r in body["rows"] if r["community_id"] == cuiyuan and r["month"] == this_month)
    assert row["ratings"] == len(scores) and row["collection_rate"] == 0.93 and row["renewal_rate"] == 0.88
    assert row["csat"] == (round(sum(s >= 4 for s in scores) / len(scores), 4) if scores else None)

    # another tenant's communities are unknown here; nothing of this tenant's reaches another
    other = api.new_tenant()
    assert_error(api.request("PUT", "/v1/reports/fee-rates", token=other.token, json={"items": [
        {"community_id": cuiyuan, "month": this_month, "collection_rate": 0.5}]}), 422)
    theirs = api.get("/v1/reports/satisfaction-renewal", token=other.token,
                     params={"from_month": first_month, "to_month": this_month}).json()
    assert theirs["rows"] == [] and theirs["risks"] == []
    assert api.get("/v1/reports/fee-rates", token=other.token, params={"from_month": first_month,
                                                                       "to_month": this_month}).json()["items"] == []
    _, agent = api.add_staff(other, "supervisor")
    assert_error(api.request("PUT", "/v1/reports/fee-rates", token=agent, json={"items": [
        {"community_id": "cmt_x", "month": this_month, "collection_rate": 0.5}]}), 403)


def wait_for_export(api: ApiClient, headers: dict[str, str], job_id: str, timeout: float = 60) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.request("GET", f"/v1/reports/exports/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"export {job_id} did not finish")


def test_a_period_exports_as_xlsx_and_csv_with_phones_only_for_those_who_may_see_them(stack, api, month):
    import csv
    import io

    import requests
    from openpyxl import load_workbook

    drained(stack)
    token = admin_token(api, month)
    admin = {"Authorization": f"Bearer {token}"}
    first = month["start"].astimezone(SHANGHAI).date().isoformat()
    last = month["now"].astimezone(SHANGHAI).date().isoformat()
    started = api.request("POST", "/v1/reports/exports", headers=admin, json={"from": first, "to": last})
    assert started.status_code == 202 and started.json()["status"] == "queued", started.text
    job = wait_for_export(api, admin, started.json()["id"])
    assert job["status"] == "done" and job["rows"] == len(month["outcome"].ticket_ids), job
    book = load_workbook(io.BytesIO(requests.get(job["download_url"], timeout=30).content), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("工单号", "创建时间", "类型") and len(rows) == job["rows"] + 1
    phones = {r[10] for r in rows[1:]}
    assert all(p and "*" not in p and p.startswith("139") for p in phones)  # the admin sees them whole

    key = api.post("/v1/api-keys", token=token, json={"name": "数据仓库", "scopes": ["reports:read"]}).json()["key"]
    integration = {"Authorization": f"Bearer {key}"}
    cuiyuan = month["communities"][0]
    started = api.request("POST", "/v1/reports/exports", headers=integration, json={
        "from": first, "to": last, "format": "csv", "community_id": cuiyuan})
    assert started.status_code == 202, started.text
    job = wait_for_export(api, integration, started.json()["id"])
    text = requests.get(job["download_url"], timeout=30).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert {line[7] for line in lines[1:]} == {"翠苑"} and len(lines) - 1 == job["rows"] > 0
    assert all("****" in line[10] for line in lines[1:])  # an integration gets the masked hint
    assert_error(api.request("GET", f"/v1/reports/exports/{job['id']}", headers=admin), 404)  # not the admin's
    other = api.new_tenant()
    assert_error(api.get(f"/v1/reports/exports/{job['id']}", token=other.token), 404)
    assert_error(api.post("/v1/reports/exports", token=other.token, json={"from": first, "to": last,
                                                                          "community_id": cuiyuan}), 404)


def test_the_kpi_tables_download_as_csv(stack, api, month):
    import csv
    import io

    drained(stack)
    token = admin_token(api, month)
    first = month["start"].astimezone(SHANGHAI).date().isoformat()
    last = month["now"].astimezone(SHANGHAI).date().isoformat()
    params = {"from": first, "to": last, "granularity": "week"}
    kpis_csv = api.get("/v1/reports/figures/csv", token=token, params=params)
    assert kpis_csv.status_code == 200 and kpis_csv.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(kpis_csv.content.decode("utf-8-sig"))))
    periods = figures(api, token, first, last, granularity="week")["periods"]
    assert lines[0][:3] == ["开始", "结束", "工单数"] and len(lines) == len(periods) + 1
    assert [int(line[2]) for line in lines[1:]] == [p["created"] for p in periods]
    staff_csv = api.get("/v1/reports/staff/csv", token=token, params={"from": first, "to": last})
    staff_lines = list(csv.reader(io.StringIO(staff_csv.content.decode("utf-8-sig"))))
    assert staff_lines[0][0] == "员工" and {line[0] for line in staff_lines[1:]} <= {
        "李娜", "王芳", "张强", "赵磊", "陈刚"} and len(staff_lines) == 6
    ranking_csv = api.get("/v1/reports/communities/csv", token=token, params={"from": first, "to": last})
    assert [line[1] for line in csv.reader(io.StringIO(ranking_csv.content.decode("utf-8-sig")))][1:] and \
        ranking_csv.status_code == 200
