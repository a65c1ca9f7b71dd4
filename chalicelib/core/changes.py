"""What changed between two views of a record, as event items carry it (``changes`` of the audit log)."""
from __future__ import annotations

from typing import Any


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Changed fields as ``{field: {"before": …, "after": …}}``, in field order.

    Example
    -------
    >>> field_changes({"name": "翠苑", "city": None}, {"name": "翠苑一区", "city": None})
    {'name': {'before': '翠苑', 'after': '翠苑一区'}}
    """
    return {k: {"before": before.get(k), "after": after.get(k)}
            for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}
