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
    from tests.helpers import ApiClient, wait_out_the_resend_cooldown

    wait_out_the_resend_cooldown(ApiClient(stack.api_url), "13800000001")  # the resident page's tests sign her in too
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


def run_block(heading: str, env: dict[str, str], *, errexit: bool = True) -> subprocess.CompletedProcess:
    script = ("set -euo pipefail\n" if errexit else "") + walkthrough(heading)
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env={**os.environ, **env})


def test_a_walkthrough_against_a_wrong_port_says_it_cannot_connect(stack):
    """Pasted into a terminal (no ``set -e``), every step fails in one line of curl's, never in a traceback."""
    from devstack.stack import free_port

    result = run_block("## Walk-through", {"LINLI": f"http://127.0.0.1:{free_port()}"}, errexit=False)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "JSONDecodeError" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("curl: (7) Failed to connect to 127.0.0.1 port") for line in lines), lines


def test_a_walkthrough_step_that_fails_prints_the_apis_error(stack):
    """A wrong password: the step prints the API's code and message, and the block stops there."""
    block = walkthrough()
    wrong = block.replace('\\"password\\": \\"Lotus-pond-2026\\"', '\\"password\\": \\"Wrong-pond-2026\\"')
    assert wrong != block
    result = subprocess.run(["bash", "-c", "set -euo pipefail\n" + wrong], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "LINLI": stack.api_url, "SLUG": f"lotus-{uuid.uuid4().hex[:8]}"})
    assert result.returncode != 0
    assert result.stdout.strip().startswith("tnt_")                           # step 1 worked, step 2 stopped it
    assert result.stderr.strip() == "invalid_credentials: The email or password is incorrect."


def test_a_failed_step_in_a_pasted_block_never_ends_in_a_traceback(stack):
    """The repair block, pasted with no ``set -e``, after the demo agent's password changed: API messages only."""
    # another demo resident: the repair walk-through just asked for 13800000001's code (a minute's cooldown)
    block = walkthrough("### A repair").replace("Linli-demo-2026", "Not-the-password-1").replace(
        "13800000001", "13800000003")
    result = subprocess.run(["bash", "-c", block], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "LINLI": stack.api_url})
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[0] == "invalid_credentials: The email or password is incorrect."
    assert set(result.stderr.splitlines()[1:]) <= {"unauthenticated: Missing or invalid credentials.",
                                                   "not_found: The resource does not exist."}


def test_the_banner_lists_demo_residents_and_no_dead_url(tmp_path):
    from devstack.banner import banner

    text = banner("http://127.0.0.1:8000", "http://127.0.0.1:4566", "linli-local", log_level="WARNING",
                  resident_page=tmp_path / "index.html")
    assert "13800000001  陈阿姨  翠苑1栋1单元101" in text and "13800000004  孙老师  荷塘月色5栋301" in text
    assert "/v1/dev/messages?to=<phone>" in text and "admin@demo.test" in text
    assert "/r/demo/" not in text                                             # the page is not built yet
    assert "LINLI_LOG_LEVEL=INFO" in text
    (tmp_path / "index.html").write_text("<!doctype html>")
    built = banner("http://127.0.0.1:8000", "http://127.0.0.1:4566", "linli-local", log_level="INFO",
                   resident_page=tmp_path / "index.html")
    assert "Resident page    http://127.0.0.1:8000/r/demo/" in built


def test_the_banner_names_the_console_once_it_is_built(tmp_path):
    from devstack.banner import banner

    page = tmp_path / "console.html"
    args = ("http://127.0.0.1:8000", "http://127.0.0.1:4566", "linli-local")
    assert "/console/" not in banner(*args, log_level="WARNING", console_page=page)
    page.write_text("<!doctype html>")
    assert "Staff console    http://127.0.0.1:8000/console/" in banner(*args, log_level="WARNING", console_page=page)


def test_readme_documents_the_two_commands_and_demo_logins():
    text = README.read_text(encoding="utf-8")
    for promise in ("make run", "make test", "admin@demo.test", "agent@demo.test", "tech@demo.test",
                    "Linli-demo-2026", "LINLI_HTTP_PORT", "LINLI_AWS_PORT"):
        assert promise in text
