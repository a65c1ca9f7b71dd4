"""Notification templates: plain ``{placeholder}`` substitution, nothing more. Pure.

A tenant writes its message texts (``PATCH /v1/tenant`` → ``notifications.templates``), and the notifications
consumer renders them for every tenant in the same batch, so a template is data, never code:

- the only field is ``{name}``, a known variable; ``{{`` and ``}}`` are literal braces. Format specs
  (``{number:>999999999}``, which made a 16-character template build a 200,303-character inbox entry), conversions
  (``{number!r}``), attribute or index access (``{number.__class__}``, ``{number[0]}``) and positional fields
  (``{}``, ``{0}``) are refused when the tenant saves the template, each with a message that says what to write;
- rendering is a single left-to-right substitution, not ``str.format``: a value is inserted as it is (a value
  holding ``{number}`` is not expanded again), and anything in a stored text that is not a plain field (a
  template saved before these rules) stays literal text;
- the rendered text has a cap per channel, :data:`RENDERED_LIMITS`, and rendering stops building once the cap is
  reached: whatever the template and the values, the work and the result are bounded by the cap.

Why truncate at render time rather than refuse at save time by the worst-case length: the worst case depends on
the values (a unit label, a webhook URL, a brand name), whose bounds live in other contexts and move; a cap at
render time holds whatever they become, and covers templates stored before these rules. A text cut at the cap
ends with ``…`` so a reader sees it was cut.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

ELLIPSIS = "…"
RENDERED_LIMITS = {"sms": 500, "wechat": 500, "inbox": 1000, "email": 2000}
"""The longest text a channel gets, in characters: SMS providers refuse content over 500 characters (a long SMS
is billed per 67 characters); the inbox shows a notice, at most twice a template's 500 characters; e-mail has room
for more but still a bound."""
DEFAULT_LIMIT = 500

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_FIELD = re.compile(r"\{([^{}]*)\}")
_RENDER = re.compile(r"\{\{|\}\}|\{([a-z_][a-z0-9_]*)\}")


class TemplateError(ValueError):
    """A template that is not plain ``{placeholder}`` text; the message says what to write instead."""


def check(text: str, variables: frozenset[str]) -> str:
    """The template, when it uses only ``{name}`` fields of ``variables`` (else :class:`TemplateError`).

    Example
    -------
    >>> known = frozenset({"brand", "number"})
    >>> check("【{brand}】工单{number}已受理 {{不是变量}}", known)
    '【{brand}】工单{number}已受理 {{不是变量}}'
    >>> check("{number:>999999999}", known)
    Traceback (most recent call last):
    ...
    chalicelib.notifications.templates.TemplateError: {number:>999999999}: format specs are not allowed; write {number}
    """
    position = 0
    while position < len(text):
        if text.startswith(("{{", "}}"), position):
            position += 2
            continue
        char = text[position]
        if char == "}":
            raise TemplateError(f"a '}}' without its '{{' at character {position + 1}; write '}}}}' for a brace")
        if char == "{":
            field = _FIELD.match(text, position)
            if field is None:
                raise TemplateError(f"a '{{' without its '}}' at character {position + 1}; write '{{{{' for a brace")
            _check_field(field.group(0), field.group(1), variables)
            position = field.end()
            continue
        position += 1
    return text


def _check_field(whole: str, inner: str, variables: frozenset[str]) -> None:
    use = ", ".join(sorted(variables))
    name = re.split(r"[!:.\[]", inner, maxsplit=1)[0].strip()
    plain = f"{{{name}}}" if name in variables else f"a plain {{name}} with one of: {use}"
    if name == "" or name.isdigit():
        raise TemplateError(f"{whole}: positional fields are not allowed; name a variable: {use}")
    if "!" in inner:
        raise TemplateError(f"{whole}: conversions are not allowed; write {plain}")
    if ":" in inner:
        raise TemplateError(f"{whole}: format specs are not allowed; write {plain}")
    if "." in inner or "[" in inner:
        raise TemplateError(f"{whole}: attribute and index access are not allowed; write {plain}")
    if not _NAME.fullmatch(inner) or inner not in variables:
        raise TemplateError(f"unknown variable {whole}; use: {use}")


def render(text: str, values: Mapping[str, str], limit: int) -> str:
    """``text`` with each ``{name}`` replaced by its value (``""`` when it has none), at most ``limit`` characters.

    Example
    -------
    >>> render("工单{number}（{unit}）{{原样}}", {"number": "26112700001", "unit": "1栋101"}, 100)
    '工单26112700001（1栋101）{原样}'
    >>> render("{number:>999999999}{number!r}", {"number": "1"}, 100)   # stored before the rules: literal text
    '{number:>999999999}{number!r}'
    >>> render("{unit}" * 50, {"unit": "1栋2单元1201"}, 20)
    '1栋2单元12011栋2单元12011…'
    """
    kept: list[str] = []
    size = 0
    for piece in _pieces(text, values):
        piece = piece[: limit + 1 - size]  # one past the cap: enough to know the text was cut
        kept.append(piece)
        size += len(piece)
        if size > limit:
            return "".join(kept)[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS
    return "".join(kept)


def fields_of(text: str) -> list[str]:
    """The plain ``{name}`` fields of a text, in order of use (``{{`` and ``}}`` are braces, not fields).

    Example
    -------
    >>> fields_of("{{不是变量}} 工单{number}（{unit}）{number}")
    ['number', 'unit', 'number']
    """
    return [match.group(1) for match in _RENDER.finditer(text) if match.group(1) is not None]


def limit_for(channel: str) -> int:
    """The cap of a channel's rendered text.

    Example
    -------
    >>> limit_for("sms"), limit_for("inbox"), limit_for("pigeon")
    (500, 1000, 500)
    """
    return RENDERED_LIMITS.get(channel, DEFAULT_LIMIT)


def _pieces(text: str, values: Mapping[str, str]) -> Iterator[str]:
    position = 0
    for match in _RENDER.finditer(text):
        yield text[position:match.start()]
        token = match.group(0)
        yield token[0] if match.group(1) is None else str(values.get(match.group(1), ""))
        position = match.end()
    yield text[position:]
