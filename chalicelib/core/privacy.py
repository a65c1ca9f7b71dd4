"""Pure privacy helpers shared by contexts: masking personal data for audiences that need only a hint of it, and
who may see a resident's phone in full."""
from __future__ import annotations

from chalicelib.core.permissions import Permission
from chalicelib.core.tenancy import Principal


def may_see_phones(principal: Principal) -> bool:
    """Whether a caller sees residents' phones in full: staff who manage residents (admins, supervisors, agents).
    Everyone else — butlers, technicians, API keys — gets :func:`mask_phone`'s hint.

    Example
    -------
    >>> from chalicelib.core.permissions import Role, permissions_for
    >>> may_see_phones(Principal("staff", "usr_1", Role.AGENT, permissions_for(Role.AGENT)))
    True
    >>> may_see_phones(Principal("staff", "usr_2", Role.BUTLER, permissions_for(Role.BUTLER)))
    False
    >>> may_see_phones(Principal("api_key", "key_1", None, frozenset(Permission)))
    False
    """
    return principal.kind == "staff" and Permission.RESIDENTS_WRITE in principal.permissions


def mask_phone(phone: str | None) -> str | None:
    """A phone number with its middle hidden (as residents' phones are shown).

    Example
    -------
    >>> mask_phone("13812345678"), mask_phone("12345"), mask_phone(None)
    ('138****5678', '****', None)
    """
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
