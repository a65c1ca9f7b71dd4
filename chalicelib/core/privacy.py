"""Pure privacy helpers shared by contexts: masking personal data for audiences that need only a hint of it."""
from __future__ import annotations


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
