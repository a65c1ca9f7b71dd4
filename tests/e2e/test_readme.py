"""The README walk-through runs verbatim against the embedded stack."""
from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough(heading: str = "## Walk-through") -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_readme_walkthrough_works_verbatim(stack):
    script = "set -euo pipefail\n" + walkthrough()
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "LINLI": stack.api_url, "SLUG": f"lotus-{uuid.uuid4().hex[:8]}"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("tnt_")
    assert lines[1:] == ["2", "荷塘管家"]


def test_readme_repair_walkthrough_on_the_demo_tenant(stack):
    script = "set -euo pipefail\n" + walkthrough("### A repair")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "LINLI": stack.api_url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == ["厨房水管漏水", "acknowledged"]


def test_readme_webhook_walkthrough_on_the_demo_tenant(stack):
    script = "set -euo pipefail\n" + walkthrough("### A webhook")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "LINLI": stack.api_url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == ["whsec_", "webhook.test", "connection refused"]


def test_readme_documents_the_two_commands_and_demo_logins():
    text = README.read_text(encoding="utf-8")
    for promise in ("make run", "make test", "admin@demo.test", "agent@demo.test", "tech@demo.test",
                    "Linli-demo-2026", "LINLI_HTTP_PORT", "LINLI_AWS_PORT"):
        assert promise in text
