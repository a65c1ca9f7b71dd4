"""Access tokens are HS256: PyJWT is loaded without the cryptography package (150 ms of a new container's first
request), tokens still round-trip and forgeries are still refused, and cryptography stays importable after."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys
from datetime import datetime, timezone
from chalicelib.core.auth import TokenCodec
from chalicelib.core.errors import UnauthenticatedError

codec = TokenCodec({"k1": "x" * 32}, "k1", 900)
token = codec.issue(tenant_id="tnt_1", subject="usr_1", kind="staff", role="admin", now=datetime.now(timezone.utc))
assert codec.verify(token).subject == "usr_1"
assert "cryptography" not in sys.modules
import jwt.algorithms
assert jwt.algorithms.has_crypto is False
head, body, signature = token.split(".")
for forged in (f"{head}.{body}.{signature[:-2]}AA", jwt.encode({"sub": "usr_1"}, "other" * 8, algorithm="HS256",
                                                                 headers={"kid": "k1"})):
    try:
        codec.verify(forged)
    except UnauthenticatedError:
        pass
    else:
        raise AssertionError("a forged token was accepted")
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # the webhook secrets' cipher, still there
AESGCM(b"k" * 32)
print("ok")
"""


def test_tokens_are_made_and_checked_without_loading_cryptography_which_stays_importable():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, check=False,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "POWERTOOLS_LOG_LEVEL": "ERROR"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("ok")
