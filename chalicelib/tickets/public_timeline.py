"""What a resident sees of their ticket's history: a deliberate public projection of the audit log.

The staff timeline is the audit log itself (actor ids, before/after of every field, transfer reasons, return
visits, the SLA ledger). A resident gets something else on purpose: per event, what happened in plain words
(zh-CN, with an English variant), who did it as a role a resident knows ("客服", "维修师傅", "您", "系统" — never a
staff id), and only the whitelisted facts — the new status, a quote's price and time, their own rating's score.
Nothing else of an event is read, so a field added to an event later stays internal until a rule here shows it.

``RULES`` holds ONE explicit rule for every event type of the catalogue (``events/catalogue.py``; a unit test walks
it, so a new event type without a rule fails the build): either :func:`hidden` or a function that returns what the
resident sees of that event (or ``None`` to hide this one, e.g. an internal note). A type with no rule is hidden.

Pure: messages (the event dicts of the ticket's partition) in, :class:`PublicEntry` records out.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Words = tuple[str, str]  # (zh-CN, en)
Message = dict[str, Any]


@dataclass(frozen=True)
class PublicEntry:
    """One line of a resident's timeline. Nothing here identifies a staff member."""

    id: str
    type: str
    occurred_at: str
    title: str
    title_en: str
    actor_label: str
    actor_label_en: str
    status: str | None = None
    price: str | None = None
    eta: str | None = None
    score: int | None = None


@dataclass(frozen=True)
class Shown:
    """What a rule lets through: the words, and the whitelisted facts of this event type."""

    title: Words
    status: str | None = None  # when the event's own changes don't carry it (a new ticket's first status)
    price: str | None = None
    eta: str | None = None
    score: int | None = None


Rule = Callable[[Message], Shown | None]

# Staff appear by role, as a resident would name them.
ROLE_LABELS: dict[str, Words] = {
    "admin": ("物业", "Property management"),
    "supervisor": ("客服主管", "Service supervisor"),
    "agent": ("客服", "Customer service"),
    "technician": ("维修师傅", "Technician"),
    "butler": ("管家", "Butler"),
}
STAFF: Words = ("工作人员", "Staff")
YOU: Words = ("您", "You")
RESIDENT: Words = ("住户", "Resident")
SYSTEM: Words = ("系统", "System")


def hidden(message: Message) -> None:
    """Never shown to residents."""
    return None


def _data(message: Message) -> dict[str, Any]:
    return message.get("data") or {}


def _public(message: Message) -> bool:
    return _data(message).get("visibility") == "public"


def _always(title: Words) -> Rule:
    return lambda message: Shown(title)


def _created(message: Message) -> Shown:
    status = _data(message).get("status")
    return Shown(("工单已提交", "Request submitted"), status=status if isinstance(status, str) else None)


def _assigned(message: Message) -> Shown:
    data = _data(message)  # from/to (staff ids), reason and team stay out
    if data.get("action") == "grab":
        return Shown(("已接单", "The job was taken"))
    if data.get("transfer"):
        return Shown(("已转交其他同事处理", "Handed over to a colleague"))
    return Shown(("已安排专人处理", "Assigned to a handler"))


STATUS_STEPS: dict[str, Words] = {
    "start": ("开始处理", "Work started"),
    "arrive": ("工作人员已上门", "Arrived on site"),
    "wait_on_resident": ("等待您的回复", "Waiting for your reply"),  # the reason is the staff's note: see comments
    "resume": ("继续处理", "Work resumed"),
    "approve_quote": ("您已同意报价", "You accepted the quote"),
    "decline_quote": ("您已拒绝报价，工单已取消", "You declined the quote; the request was withdrawn"),
}


def _status_changed(message: Message) -> Shown | None:
    if not _public(message):  # 退单 (return) and other internal moves
        return None
    return Shown(STATUS_STEPS.get(_data(message).get("action") or "", ("处理进度已更新", "Progress updated")))


def _commented(message: Message) -> Shown | None:
    if not _public(message):  # internal notes
        return None
    if (message.get("actor") or {}).get("type") == "resident":
        return Shown(("您补充了留言", "You replied"))
    return Shown(("收到新回复", "New reply"))


def _quoted(message: Message) -> Shown:
    data = _data(message)
    return Shown(("报价待您确认", "A quote awaits your approval"), price=_text(data.get("price")),
                 eta=_text(data.get("eta")))


CLOSED_HOW: dict[str, Words] = {
    "resident_confirmed": ("您已确认问题解决", "You confirmed it is solved"),
    "auto": ("确认期已过，工单自动关闭", "Closed automatically after the confirmation period"),
}


def _closed(message: Message) -> Shown:
    return Shown(CLOSED_HOW.get(_data(message).get("how") or "", ("工单已关闭", "Closed")))


def _rated(message: Message) -> Shown:
    score = _data(message).get("score")  # whether it flagged the ticket stays internal
    return Shown(("您评价了本次服务", "You rated the service"),
                 score=score if isinstance(score, int) and not isinstance(score, bool) else None)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


RULES: dict[str, Rule] = {
    # tickets: what a resident may know happened
    "ticket.created": _created,
    "ticket.acknowledged": _always(("工单已受理", "Request accepted")),
    "ticket.assigned": _assigned,
    "ticket.status_changed": _status_changed,
    "ticket.commented": _commented,
    "ticket.quoted": _quoted,
    "ticket.resolved": _always(("已处理完成，请确认", "Resolved; please confirm")),
    "ticket.closed": _closed,
    "ticket.reopened": _always(("工单已重新打开", "Reopened")),  # the reason stays with staff
    "ticket.rated": _rated,
    "ticket.cancelled": _always(("工单已取消", "Cancelled")),
    "ticket.merged": _always(("已与相同问题的工单合并处理", "Merged with a report of the same problem")),
    # tickets: staff bookkeeping
    "ticket.return_visited": hidden,   # 回访 notes are about the resident, for staff
    "ticket.updated": hidden,          # re-triage (kind, priority) is internal
    # the SLA ledger is internal: targets, breaches, escalations, pauses
    "sla.warning": hidden,
    "sla.breached": hidden,
    "sla.escalated": hidden,
    "sla.met": hidden,
    "sla.started": hidden,
    "sla.paused": hidden,
    "sla.resumed": hidden,
    "sla.stopped": hidden,
    "sla.retargeted": hidden,
    # not about a ticket: never on a ticket's timeline, and never a resident's business if one were
    "resident.registered": hidden,
    "resident.updated": hidden,
    "resident.deleted": hidden,
    "resident.wechat_bound": hidden,
    "resident.phone_revealed": hidden,  # the desk's audit of who saw the full number: for staff
    "community.created": hidden,
    "community.updated": hidden,
    "community.deleted": hidden,
    "building.created": hidden,
    "unit.created": hidden,
    "import.started": hidden,
    "import.completed": hidden,
    "import.failed": hidden,
    "tenant.created": hidden,
    "fees.recorded": hidden,
    "export.started": hidden,
    "tenant.updated": hidden,
    "staff.created": hidden,
    "staff.updated": hidden,
    "staff.deleted": hidden,
    "canned_reply.created": hidden,
    "canned_reply.updated": hidden,
    "canned_reply.deleted": hidden,
    "api_key.created": hidden,
    "api_key.revoked": hidden,
    "webhook.created": hidden,
    "webhook.updated": hidden,
    "webhook.deleted": hidden,
    "webhook.secret_rotated": hidden,
    "webhook.test": hidden,
    "webhook.disabled": hidden,
}


def actor_label(actor: dict[str, Any] | None, resident_id: str) -> Words:
    """Who did it, as the ticket's resident may see it.

    Example
    -------
    >>> actor_label({"type": "staff", "id": "usr_9", "role": "technician"}, "res_1")
    ('维修师傅', 'Technician')
    >>> actor_label({"type": "resident", "id": "res_1"}, "res_1"), actor_label({"type": "system", "id": "sla"}, "res_1")
    (('您', 'You'), ('系统', 'System'))
    """
    actor = actor or {}
    kind = actor.get("type")
    if kind == "resident":
        return YOU if actor.get("id") == resident_id else RESIDENT
    if kind == "staff":
        return ROLE_LABELS.get(actor.get("role") or "", STAFF)
    return SYSTEM  # scheduled jobs and integrations (API keys)


def project(message: Message, resident_id: str) -> PublicEntry | None:
    """One event as the ticket's resident sees it, or ``None`` when it is not theirs to see.

    Example
    -------
    >>> event = {"id": "evt_1", "type": "ticket.assigned", "occurred_at": "2026-11-27T02:00:00.000Z",
    ...          "actor": {"type": "staff", "id": "usr_agent", "role": "agent"},
    ...          "changes": {"assignee_id": {"before": "usr_a", "after": "usr_b"}},
    ...          "data": {"action": "assign", "from": "usr_a", "to": "usr_b", "reason": "师傅请假", "transfer": True,
    ...                   "visibility": "public", "status": "assigned"}}
    >>> entry = project(event, "res_1")
    >>> entry.title, entry.actor_label, entry.status
    ('已转交其他同事处理', '客服', None)
    >>> project({**event, "type": "ticket.return_visited"}, "res_1") is None
    True
    """
    rule = RULES.get(message.get("type") or "", hidden)
    shown = rule(message)
    if shown is None:
        return None
    who = actor_label(message.get("actor"), resident_id)
    changed = ((message.get("changes") or {}).get("status") or {}).get("after")
    status = changed if isinstance(changed, str) else shown.status
    return PublicEntry(id=message["id"], type=message["type"], occurred_at=message["occurred_at"],
                       title=shown.title[0], title_en=shown.title[1], actor_label=who[0], actor_label_en=who[1],
                       status=status, price=shown.price, eta=shown.eta,
                       score=shown.score)


def project_timeline(messages: Iterable[Message], resident_id: str) -> list[PublicEntry]:
    """A ticket's events (oldest first) as its resident sees them."""
    return [entry for entry in (project(m, resident_id) for m in messages) if entry is not None]
