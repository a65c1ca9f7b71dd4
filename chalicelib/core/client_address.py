"""The caller's address, which every per-address protection keys on (the anonymous fair share, the staff sign-in
lock-out, the per-address OTP window).

API Gateway's ``requestContext.identity.sourceIp`` is the caller's address on a direct call (the stage URL, a
custom domain). Through the web distribution it is a CloudFront edge's, shared by everyone that edge serves. Such
a request proves where it came from with the origin-verify header, whose value only CloudFront and this API know
(a secret the stack generates; infra/resources.json), and carries the viewer's address in the viewer-address
header, which a CloudFront Function on ``/v1/*`` sets from the connection on every request, replacing whatever the
viewer sent. Only with the secret is that header read; without it (no header, a wrong value: a direct call) it is
ignored, as are ``X-Forwarded-For`` and ``CloudFront-Viewer-Address`` always. (Why a stamp of our own rather than
CloudFront's ``CloudFront-Viewer-Address``: an origin request policy cannot add that header to "every viewer header but
Host", which API Gateway needs, and the managed policy's documentation does not promise it; where CloudFront does not
set it, a viewer could send it through. The stamp is set on every request, whatever the policy.)
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping

from chalicelib.core.auth import constant_time_equal

ORIGIN_VERIFY_HEADER = "x-linli-origin-verify"  # set by the distribution's API origin (OriginCustomHeaders)
VIEWER_ADDRESS_HEADER = "x-linli-viewer-address"  # set by the distribution's ApiViewerAddressFunction


def viewer_address(value: str | None) -> str | None:
    """The key of the viewer in a viewer-address header, or None when it holds anything but one IP address. An IPv4
    viewer is its address; an IPv6 viewer its /64, the block one subscriber's device or home is given and may pick
    any address from (one per request would slip every per-address limit); an IPv4-mapped one its IPv4 address.

    Example
    -------
    >>> viewer_address("203.0.113.7"), viewer_address(" 198.51.100.1 "), viewer_address("::ffff:203.0.113.7")
    ('203.0.113.7', '198.51.100.1', '203.0.113.7')
    >>> viewer_address("2001:db8:1:2::7") == viewer_address("2001:DB8:1:2:ffff::1") == "2001:db8:1:2::/64"
    True
    >>> viewer_address("203.0.113.7:443"), viewer_address("203.0.113.7, 10.0.0.1"), viewer_address("fe80::1%eth0"), \
viewer_address(None)
    (None, None, None, None)
    """
    if not value or len(value) > 64:  # the longest textual IPv6 address is 45 characters
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return str(address)
    if address.scope_id is not None:  # a link-local zone: never a viewer on the internet
        return None
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False))


class ClientAddress:
    """Resolves a request's client address; ``accepted_secrets`` gives the origin-verify values now accepted (two
    while the secret rotates, none when no secret is configured: locally), and is asked only when a request
    carries the header.

    Example
    -------
    >>> address = ClientAddress(lambda: ["s3cr3t-value"])
    >>> trusted = {ORIGIN_VERIFY_HEADER: "s3cr3t-value", VIEWER_ADDRESS_HEADER: "203.0.113.7"}
    >>> address(trusted, "130.176.1.1")
    '203.0.113.7'
    >>> address({**trusted, ORIGIN_VERIFY_HEADER: "guess"}, "130.176.1.1")
    '130.176.1.1'
    >>> address({VIEWER_ADDRESS_HEADER: "203.0.113.9", "x-forwarded-for": "203.0.113.9"}, "198.51.100.4")
    '198.51.100.4'
    """

    def __init__(self, accepted_secrets: Callable[[], Iterable[str]]) -> None:
        self._accepted_secrets = accepted_secrets

    def __call__(self, headers: Mapping[str, str], source_ip: str) -> str:
        """``headers`` with lower-case names; ``source_ip`` API Gateway's (``-`` when it gave none)."""
        presented = headers.get(ORIGIN_VERIFY_HEADER)
        if not presented or not self._verified(presented):
            return source_ip
        return viewer_address(headers.get(VIEWER_ADDRESS_HEADER)) or source_ip

    def _verified(self, presented: str) -> bool:
        matched = False
        for secret in self._accepted_secrets():
            # every accepted value is compared, in constant time each: no early answer tells a guess apart
            matched |= bool(secret) and constant_time_equal(presented, secret)
        return matched

