"""What ``make run`` prints once the stack is up: where everything is and who can sign in. Nothing else is
printed afterwards unless ``LINLI_LOG_LEVEL`` asks for it."""
from __future__ import annotations

from pathlib import Path

from devstack.demo import DEMO_PASSWORD, DEMO_SLUG, DEMO_STAFF, demo_residents

ROOT = Path(__file__).resolve().parents[1]
# The resident H5 page, once built (a later issue adds it, served at /r/<slug>/). Until the built page is there,
# the banner does not advertise its URL.
RESIDENT_PAGE = ROOT / "web" / "resident" / "dist" / "build" / "h5" / "index.html"
CONSOLE_PAGE = ROOT / "web" / "console" / "dist" / "index.html"  # built by `make web`, which `make run` runs first


def banner(api_url: str, aws_endpoint: str, table_name: str, *, log_level: str,
           resident_page: Path | None = RESIDENT_PAGE, data_dir: str | None = None,
           console_page: Path | None = CONSOLE_PAGE) -> str:
    """The banner; a web page's line only when its built files exist, the data's when it persists."""
    console = ""
    if console_page is not None and console_page.is_file():
        console = f"\n  Staff console    {api_url}/console/   (sign in with a staff login below)"
    page = ""
    if resident_page is not None and resident_page.is_file():
        page = f"\n  Resident page    {api_url}/r/{DEMO_SLUG}/"
    staff = "\n".join(f"    {email:<18} {role.value:<11} password {DEMO_PASSWORD}" for email, _, role in DEMO_STAFF)
    residents = "\n".join(f"    {phone}  {name}  {home}" for phone, name, home in demo_residents())
    quiet = level_note(log_level)
    kept = f"\n  Data             {data_dir}   (kept across restarts; make reset clears it)" if data_dir else ""
    return f"""
Linli is running (stage: local){console}
  API              {api_url}
  OpenAPI          {api_url}/v1/openapi.json
  Demo branding    {api_url}/v1/public/tenants/{DEMO_SLUG}/branding{page}
  Sent messages    {api_url}/v1/dev/messages   (SMS, WeChat and e-mail the local providers recorded)
  Webhooks         POST {api_url}/v1/webhooks  (loopback allowed locally; retries compressed 100×)
  AWS emulator     {aws_endpoint}   (table {table_name}; stream and queues emulated){kept}

Demo tenant slug: {DEMO_SLUG}
  Staff
{staff}
  Residents (sign in with an SMS code: POST /v1/public/tenants/{DEMO_SLUG}/otp {{"phone": "…"}},
             then read it at GET /v1/dev/messages?to=<phone>)
{residents}

{quiet} Press Ctrl-C to stop."""


LOG_LEVELS = {
    "DEBUG": "everything, one JSON line per request and more",
    "INFO": "one JSON line per request, warnings and errors",
    "WARNING": "warnings and errors only; LINLI_LOG_LEVEL=INFO shows every request",
    "ERROR": "errors only; LINLI_LOG_LEVEL=INFO shows every request",
    "CRITICAL": "critical errors only; LINLI_LOG_LEVEL=INFO shows every request",
}


def level_note(log_level: str) -> str:
    """One sentence on what the terminal will show.

    Example
    -------
    >>> level_note("warning")
    'Logs: warnings and errors only; LINLI_LOG_LEVEL=INFO shows every request.'
    """
    return f"Logs: {LOG_LEVELS[log_level.upper()]}."
