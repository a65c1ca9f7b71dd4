"""Canned replies (快捷回复) as pure rules: the placeholders a reply may use, which replies suit a ticket, their
order on the desk, and the text a reply becomes for one ticket. No I/O.

A reply's body is checked and rendered by the notification templates' rules (:mod:`chalicelib.notifications.templates`):
plain ``{name}`` fields of a fixed list, ``{{``/``}}`` for braces, no format specs, conversions or attribute access —
refused when saved, with a message that names the field — and a single left-to-right substitution with a cap when
rendered, so a reply can no more grow without bound than a notification can.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from chalicelib.notifications import templates

PLACEHOLDERS: dict[str, str] = {
    "resident_name": "the resident's name (陈阿姨)",
    "ticket_number": "the ticket's short number",
    "staff_name": "the name of the staff member replying",
    "community_name": "the community's name (翠苑)",
    "service_phone": "the company's service phone (branding)",
    "kind_name": "the ticket kind's name (报修)",
}
"""Every placeholder a canned reply may use, and what it becomes."""
VARIABLES = frozenset(PLACEHOLDERS)
BODY_PATTERN = r"^(?:[^{}]|\{\{|\}\}|\{(?:" + "|".join(sorted(PLACEHOLDERS)) + r")\})*$"
"""What :func:`check_body` accepts, as the pattern the OpenAPI document states (the check keeps its messages)."""
RENDERED_LIMIT = 2000
"""The longest rendered reply, in characters: what a comment may hold (``tickets.schemas.CommentIn``)."""


class ReplyScope(Protocol):
    kind: str | None
    category: str | None
    sort_order: int
    created_at: str
    reply_id: str


def check_body(body: str) -> str:
    """The body, when it uses only plain ``{name}`` fields of :data:`PLACEHOLDERS` (else ``TemplateError``, whose
    message names the field and says what to write).

    Example
    -------
    >>> check_body("{resident_name}您好，工单{ticket_number}已受理")
    '{resident_name}您好，工单{ticket_number}已受理'
    >>> check_body("{name}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    chalicelib.notifications.templates.TemplateError: unknown variable {name}; use: community_name, kind_name, ...
    """
    return templates.check(body, VARIABLES)


def placeholders_in(body: str) -> list[str]:
    """The placeholders a body uses, each once, in order of first use.

    Example
    -------
    >>> placeholders_in("{{x}} {resident_name}，请致电{service_phone}，{resident_name}")
    ['resident_name', 'service_phone']
    """
    return list(dict.fromkeys(templates.fields_of(body)))


def suits(reply: ReplyScope, kind: str | None, category: str | None) -> bool:
    """Whether a reply is offered for a ticket of ``kind`` and ``category``: a general reply (no kind, no category)
    for every ticket, a kind's for that kind, a category's for that category.

    Example
    -------
    >>> from types import SimpleNamespace as R
    >>> general, repair, leaks = R(kind=None, category=None), R(kind="repair", category=None), \\
    ...     R(kind="repair", category="水电")
    >>> [suits(r, "repair", "水电") for r in (general, repair, leaks)]
    [True, True, True]
    >>> [suits(r, "repair", None) for r in (general, repair, leaks)], suits(repair, "complaint", None)
    ([True, True, False], False)
    """
    return reply.kind in (None, kind) and reply.category in (None, category)


def within(reply: ReplyScope, kind: str | None, category: str | None) -> bool:
    """Whether a reply belongs to a listing filtered by ``kind`` and/or ``category`` (``None``: not filtered): the
    general ones always, and those of the kind (any category) or the category asked for.

    Example
    -------
    >>> from types import SimpleNamespace as R
    >>> leaks, doors = R(kind="repair", category="水电"), R(kind="repair", category="门窗")
    >>> within(leaks, "repair", None), within(doors, "repair", "水电"), within(leaks, "complaint", None)
    (True, False, False)
    """
    return (kind is None or reply.kind in (None, kind)) and (category is None or reply.category in (None, category))


def desk_order(replies: Iterable[ReplyScope]) -> list[ReplyScope]:
    """The tenant's ``sort_order`` first; then the more specific reply (kind and category, then one of them, then
    a general one); then the older first."""
    return sorted(replies, key=lambda r: (r.sort_order, -(bool(r.kind) + bool(r.category)), r.created_at,
                                          r.reply_id))


def render(body: str, values: Mapping[str, str | None]) -> tuple[str, list[str]]:
    """The body with its placeholders filled, and the ones no value was found for (left empty), in order of use.

    Example
    -------
    >>> render("{resident_name}您好，请致电{service_phone}。{{备注}}", {"resident_name": "陈阿姨"})
    ('陈阿姨您好，请致电。{备注}', ['service_phone'])
    """
    missing = [name for name in placeholders_in(body) if not values.get(name)]
    return templates.render(body, {k: v for k, v in values.items() if v}, RENDERED_LIMIT), missing
