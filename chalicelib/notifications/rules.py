"""Who hears about what, and when: notification rules, templates and quiet hours. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_START, QUIET_END = time(22, 0), time(8, 0)

TEMPLATES: dict[tuple[str, str], str] = {
    ("ticket.acknowledged", "zh-CN"): "【{brand}】您的工单{number}已受理，我们会尽快为您处理。",
    ("ticket.acknowledged", "en"): "[{brand}] Your request {number} has been received; we are on it.",
    ("ticket.resolved", "zh-CN"): "【{brand}】您的工单{number}已处理完成，请在小程序确认并评价。",
    ("ticket.resolved", "en"): "[{brand}] Your request {number} is resolved; please confirm and rate it.",
    ("ticket.assigned", "zh-CN"): "【{brand}】新工单{number}（{kind}）已派给您，请及时处理。",
    ("ticket.assigned", "en"): "[{brand}] Ticket {number} ({kind}) is assigned to you.",
}
RULES: dict[str, str] = {"ticket.acknowledged": "resident", "ticket.resolved": "resident",
                         "ticket.assigned": "assignee"}


@dataclass(frozen=True)
class Planned:
    event_type: str
    recipient: str  # "resident" or "assignee"
    channel: str
    template: str


def plan(event_type: str) -> list[Planned]:
    """The messages an event calls for.

    Example
    -------
    >>> [p.recipient for p in plan("ticket.resolved")]
    ['resident']
    >>> plan("ticket.commented")
    []
    """
    recipient = RULES.get(event_type)
    return [Planned(event_type, recipient, "sms", event_type)] if recipient else []


def render(template: str, locale: str, **values: str) -> str:
    text = TEMPLATES.get((template, locale)) or TEMPLATES[(template, "zh-CN")]
    return text.format(**values)


def deliver_at(now: datetime, timezone: str, *, urgent: bool) -> datetime:
    """When a message may go out: at once, or at the end of quiet hours (22:00–08:00) unless urgent.

    Example
    -------
    >>> from datetime import timezone as tz
    >>> deliver_at(datetime(2026, 11, 27, 15, 30, tzinfo=tz.utc), "Asia/Shanghai", urgent=False).isoformat()
    '2026-11-28T00:00:00+00:00'
    """
    if urgent:
        return now
    local = now.astimezone(ZoneInfo(timezone))
    clock = local.time()
    if clock >= QUIET_START:
        release = datetime.combine(local.date() + timedelta(days=1), QUIET_END, local.tzinfo)
    elif clock < QUIET_END:
        release = datetime.combine(local.date(), QUIET_END, local.tzinfo)
    else:
        return now
    return release.astimezone(ZoneInfo("UTC"))
