"""Who hears about what, on which channel, in which words, and when. Pure.

A tenant edits ``notifications`` in its configuration (``PATCH /v1/tenant``): rules
(event → recipients × channels, optionally only for some ticket kinds), templates per
event × channel × locale with ``{variables}``, and quiet hours. Whatever it leaves out falls
back to the defaults below, which are what a property company in China expects out of the box.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Annotated, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field, StringConstraints, ValidationInfo, field_validator, model_validator

from chalicelib.core.schema import Schema
from chalicelib.notifications import templates as template_rules

Recipient = Literal["resident", "assignee", "supervisors", "on_duty_supervisors", "butler", "admins", "escalation"]
ChannelName = Literal["sms", "wechat", "email", "inbox"]
LocaleName = Literal["zh-CN", "en"]
ClockText = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
VARIABLES = frozenset({"brand", "number", "kind", "category", "status", "clock", "unit", "url", "reason"})
CLOCK_NAMES = {
    "zh-CN": {"first_response": "首次响应", "next_reply": "回复", "on_site": "上门", "resolution": "解决"},
    "en": {"first_response": "first response", "next_reply": "reply", "on_site": "on-site", "resolution": "resolution"},
}
ESCALATION_ROLES = {"supervisor": "supervisors", "admin": "admins", "assignee": "assignee"}
"""``sla.escalated``'s ``data.notify`` → the recipient kind the ``escalation`` recipient stands for."""


class KindNames(Protocol):
    """An entry of a ticket-kind catalogue (``TenantConfig.ticket_kinds``)."""

    key: str
    name: str
    name_en: str


def kind_name(key: str, locale: str, *catalogues: Iterable[KindNames]) -> str:
    """A ticket kind's name in the locale, from the first catalogue that has it (else the key itself).

    Example
    -------
    >>> from types import SimpleNamespace as Kind
    >>> tenant = [Kind(key="repair", name="维修", name_en="Fix")]
    >>> defaults = [Kind(key="repair", name="报修", name_en="Repair"), Kind(key="service", name="便民服务",
    ...                                                               name_en="Service")]
    >>> kind_name("repair", "zh-CN", tenant, defaults), kind_name("service", "en", tenant, defaults)
    ('维修', 'Service')
    >>> kind_name("moving", "zh-CN", tenant, defaults)
    'moving'
    """
    for catalogue in catalogues:
        for kind in catalogue:
            if kind.key == key:
                return kind.name_en if locale == "en" else kind.name
    return key


def clock_name(clock: str, locale: str) -> str:
    """An SLA clock's name in the locale (Chinese when the locale has none).

    Example
    -------
    >>> clock_name("first_response", "zh-CN"), clock_name("on_site", "en"), clock_name("", "en")
    ('首次响应', 'on-site', '')
    """
    names = CLOCK_NAMES.get(locale, CLOCK_NAMES["zh-CN"])
    return names.get(clock, clock)


class Rule(Schema):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    event: str
    recipients: list[Recipient] = Field(min_length=1, max_length=6)
    channels: list[ChannelName] = Field(min_length=1, max_length=4)
    kinds: list[str] = Field(default_factory=list, max_length=20, description="Only tickets of these kinds")

    @field_validator("event")
    @classmethod
    def _known(cls, value: str) -> str:
        return notifiable(value)

    @model_validator(mode="after")
    def _escalation_only_for_escalations(self) -> Rule:
        if "escalation" in self.recipients and self.event != "sla.escalated":
            raise ValueError("the escalation recipient (the role an SLA step pages) only follows sla.escalated")
        return self


def notifiable(event_type: str) -> str:
    from chalicelib.events.catalogue import CATALOGUE

    spec = CATALOGUE.get(event_type)
    if spec is None or not spec.notify:
        known = ", ".join(t for t, s in CATALOGUE.items() if s.notify)
        raise ValueError(f"{event_type!r} is not an event notifications can follow; one of: {known}")
    return event_type


class QuietHours(Schema):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    start: ClockText = "22:00"
    end: ClockText = "08:00"


def check_template(text: str) -> str:
    """A template may use only the known variables, with plain ``{name}`` fields (:mod:`.templates` says why).

    Example
    -------
    >>> check_template("工单{number}已受理")
    '工单{number}已受理'
    >>> check_template("{password}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chalicelib.notifications.templates.TemplateError: unknown variable {password}; use: brand, category, ...
    """
    return template_rules.check(text, VARIABLES)


SAVING = {"saving": True}
"""The validation context of a configuration being saved (``TenantConfig.model_validate(…, context=SAVING)``):
only then are templates checked. A stored configuration loads as it is: a template saved before today's rules
renders its odd fields as literal text, so loading it must not fail every request of that tenant."""


Template = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class NotificationSettings(Schema):
    """The tenant's notification configuration (``TenantConfig.notifications``)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    rules: list[Rule] | None = Field(None, max_length=100, description="Empty/absent: the defaults")
    templates: dict[str, dict[ChannelName, dict[LocaleName, Template]]] = Field(
        default_factory=dict, description="event → channel → locale → text with {variables}; overrides defaults")
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    wechat_templates: dict[str, Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=dict, description="event → WeChat subscribe-message template id")

    @model_validator(mode="after")
    def _templates_valid(self, info: ValidationInfo) -> NotificationSettings:
        saving = bool(info.context and info.context.get("saving"))
        for event, channels in self.templates.items():
            notifiable(event)
            for channel, locales in channels.items():
                for locale, text in locales.items():
                    if saving:
                        try:
                            check_template(text)
                        except template_rules.TemplateError as exc:
                            raise ValueError(f"templates.{event}.{channel}.{locale}: {exc}") from exc
        return self

    def effective_rules(self) -> list[Rule]:
        """The tenant's rules (else the defaults). SLA escalation steps page whatever the rules say: a tenant
        whose rules leave ``sla.escalated`` out keeps the default page of the role each step names.

        Example
        -------
        >>> own = NotificationSettings(rules=[Rule(event="ticket.resolved", recipients=["resident"],
        ...                                        channels=["sms"])])
        >>> [(r.event, r.recipients) for r in own.effective_rules()]
        [('ticket.resolved', ['resident']), ('sla.escalated', ['escalation'])]
        """
        if not self.rules:
            return list(default_rules())
        if any(rule.event == "sla.escalated" for rule in self.rules):
            return list(self.rules)
        return [*self.rules, *(rule for rule in default_rules() if rule.event == "sla.escalated")]


def default_rules() -> tuple[Rule, ...]:
    r = Rule
    return (
        r(event="ticket.created", recipients=["on_duty_supervisors"], channels=["sms", "inbox"], kinds=["emergency"]),
        r(event="ticket.created", recipients=["supervisors"], channels=["inbox"], kinds=["complaint"]),
        r(event="ticket.created", recipients=["butler"], channels=["inbox"]),
        r(event="ticket.acknowledged", recipients=["resident"], channels=["sms", "wechat", "inbox"]),
        r(event="ticket.assigned", recipients=["assignee"], channels=["sms", "inbox"]),
        r(event="ticket.commented", recipients=["resident", "assignee"], channels=["inbox"]),
        r(event="ticket.quoted", recipients=["resident"], channels=["sms", "inbox"]),
        r(event="ticket.resolved", recipients=["resident"], channels=["sms", "wechat", "inbox"]),
        r(event="ticket.reopened", recipients=["assignee", "supervisors"], channels=["inbox"]),
        r(event="ticket.rated", recipients=["assignee"], channels=["inbox"]),
        r(event="sla.warning", recipients=["assignee"], channels=["inbox"]),
        r(event="sla.breached", recipients=["supervisors"], channels=["inbox"]),
        r(event="sla.escalated", recipients=["escalation"], channels=["sms", "inbox"]),
        r(event="webhook.disabled", recipients=["admins"], channels=["email", "inbox"]),
    )


_BRAND = "【{brand}】"
DEFAULT_TEMPLATES: dict[tuple[str, str], str] = {
    ("ticket.created", "zh-CN"): _BRAND + "新{kind}工单{number}（{unit}），请及时处理。",
    ("ticket.created", "en"): "[{brand}] New {kind} ticket {number} ({unit}).",
    ("ticket.acknowledged", "zh-CN"): _BRAND + "您的工单{number}已受理，我们会尽快为您处理。",
    ("ticket.acknowledged", "en"): "[{brand}] Your request {number} has been received; we are on it.",
    ("ticket.assigned", "zh-CN"): _BRAND + "新工单{number}（{kind}）已派给您，请及时处理。",
    ("ticket.assigned", "en"): "[{brand}] Ticket {number} ({kind}) is assigned to you.",
    ("ticket.commented", "zh-CN"): _BRAND + "工单{number}有新回复。",
    ("ticket.commented", "en"): "[{brand}] Ticket {number} has a new reply.",
    ("ticket.quoted", "zh-CN"): _BRAND + "工单{number}有一份报价待您确认。",
    ("ticket.quoted", "en"): "[{brand}] Ticket {number} has a quote awaiting your approval.",
    ("ticket.resolved", "zh-CN"): _BRAND + "您的工单{number}已处理完成，请在小程序确认并评价。",
    ("ticket.resolved", "en"): "[{brand}] Your request {number} is resolved; please confirm and rate it.",
    ("ticket.reopened", "zh-CN"): _BRAND + "工单{number}已被重新打开，请跟进。",
    ("ticket.reopened", "en"): "[{brand}] Ticket {number} was reopened.",
    ("ticket.rated", "zh-CN"): _BRAND + "工单{number}收到了评价。",
    ("ticket.rated", "en"): "[{brand}] Ticket {number} was rated.",
    ("sla.warning", "zh-CN"): _BRAND + "工单{number}的{clock}时限即将到期。",
    ("sla.warning", "en"): "[{brand}] Ticket {number}: the {clock} deadline is near.",
    ("sla.breached", "zh-CN"): _BRAND + "工单{number}的{clock}已超时，请立即处理。",
    ("sla.breached", "en"): "[{brand}] Ticket {number}: the {clock} deadline has passed.",
    ("sla.escalated", "zh-CN"): _BRAND + "工单{number}（{kind}）{clock}已超时，请立即处理。",
    ("sla.escalated", "en"): "[{brand}] Ticket {number} ({kind}): the {clock} deadline has passed; act now.",
    ("webhook.disabled", "zh-CN"): _BRAND + "Webhook 推送地址 {url} 已停用：{reason}。请检查后在后台重新启用。",
    ("webhook.disabled", "en"): "[{brand}] The webhook endpoint {url} was disabled: {reason}. Fix it and re-enable it.",
    ("generic", "zh-CN"): _BRAND + "工单{number}有更新：{status}。",
    ("generic", "en"): "[{brand}] Ticket {number} was updated: {status}.",
}
EMERGENCY_TEMPLATES = {
    "zh-CN": _BRAND + "紧急工单{number}（{unit}）：请值班主管立即处理！",
    "en": "[{brand}] EMERGENCY ticket {number} ({unit}): on-duty supervisor, act now!",
}


def render(settings: NotificationSettings, event_type: str, channel: str, locale: str, values: dict[str, str],
           *, emergency: bool = False) -> str:
    """The text of one message: the tenant's template, else the default, in its locale, else Chinese; plain
    ``{variable}`` substitution, cut at the channel's cap (:mod:`chalicelib.notifications.templates`).

    Example
    -------
    >>> s = NotificationSettings(templates={"ticket.resolved": {"sms": {"zh-CN": "{brand}：{number}修好了"}}})
    >>> render(s, "ticket.resolved", "sms", "zh-CN", {"brand": "绿城", "number": "26112700001"})
    '绿城：26112700001修好了'
    >>> render(s, "ticket.resolved", "inbox", "en", {"brand": "GC", "number": "1"})
    '[GC] Your request 1 is resolved; please confirm and rate it.'
    """
    custom = settings.templates.get(event_type, {}).get(channel, {})  # type: ignore[call-overload]
    text = custom.get(locale) or custom.get("zh-CN")
    if text is None and emergency:
        text = EMERGENCY_TEMPLATES.get(locale) or EMERGENCY_TEMPLATES["zh-CN"]
    if text is None:
        text = (DEFAULT_TEMPLATES.get((event_type, locale)) or DEFAULT_TEMPLATES.get((event_type, "zh-CN"))
                or DEFAULT_TEMPLATES[("generic", locale if locale in ("zh-CN", "en") else "zh-CN")])
    return template_rules.render(text, values, template_rules.limit_for(channel))


def followed(settings: NotificationSettings, event_type: str) -> bool:
    """Whether any rule is about this event, for some kind of ticket: if none is, nothing is sent and the ticket need
    not be read to find out.

    Example
    -------
    >>> followed(NotificationSettings(), "ticket.resolved"), followed(NotificationSettings(), "ticket.closed")
    (True, False)
    """
    return any(rule.event == event_type for rule in settings.effective_rules())


def plan(settings: NotificationSettings, event_type: str, ticket_kind: str | None = None
         ) -> list[tuple[str, str]]:
    """The (recipient, channel) pairs an event calls for, each once.

    Example
    -------
    >>> plan(NotificationSettings(), "ticket.resolved")
    [('resident', 'sms'), ('resident', 'wechat'), ('resident', 'inbox')]
    >>> plan(NotificationSettings(), "ticket.created", "emergency")[:2]
    [('on_duty_supervisors', 'sms'), ('on_duty_supervisors', 'inbox')]
    >>> plan(NotificationSettings(), "ticket.closed")
    []
    """
    pairs: list[tuple[str, str]] = []
    for rule in settings.effective_rules():
        if rule.event != event_type or (rule.kinds and ticket_kind not in rule.kinds):
            continue
        for recipient in rule.recipients:
            for channel in rule.channels:
                if (recipient, channel) not in pairs:
                    pairs.append((recipient, channel))
    return pairs


def deliver_at(now: datetime, timezone: str, *, urgent: bool, quiet: QuietHours | None = None) -> datetime:
    """When a message may go out: at once, or at the end of quiet hours unless urgent.

    Example
    -------
    >>> from datetime import timezone as tz
    >>> deliver_at(datetime(2026, 11, 27, 15, 30, tzinfo=tz.utc), "Asia/Shanghai", urgent=False).isoformat()
    '2026-11-28T00:00:00+00:00'
    >>> deliver_at(datetime(2026, 11, 27, 15, 30, tzinfo=tz.utc), "Asia/Shanghai", urgent=True).hour
    15
    """
    if urgent:
        return now
    quiet = quiet or QuietHours()
    start, end = time.fromisoformat(quiet.start), time.fromisoformat(quiet.end)
    if start == end:
        return now
    local = now.astimezone(ZoneInfo(timezone))
    clock = local.time()
    if start > end:  # spans midnight (22:00–08:00)
        if clock >= start:
            release = datetime.combine(local.date() + timedelta(days=1), end, local.tzinfo)
        elif clock < end:
            release = datetime.combine(local.date(), end, local.tzinfo)
        else:
            return now
    elif start <= clock < end:
        release = datetime.combine(local.date(), end, local.tzinfo)
    else:
        return now
    return release.astimezone(ZoneInfo("UTC"))
