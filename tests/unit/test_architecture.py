"""The layering, held by a test: the allowed arrows are written down here, once.

- ``core/`` and ``storage/`` import no context and not the composition root;
- no module imports the composition root (``chalicelib.bootstrap``) — it imports them;
- storage (``pynamodb``, ``boto3``, ``botocore``, ``chalicelib.storage``) is imported only by
  repositories, the few I/O adapters named below, and the composition root;
- a context imports another only along an arrow of ``CONTEXT_ARROWS``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"
CONTEXTS = ("tenants", "residents", "tickets", "sla", "events", "notifications", "webhooks", "reports")
STORAGE_MODULES = ("pynamodb", "boto3", "botocore", "chalicelib.storage")
# Modules that talk to AWS (or hold items) besides the repositories: each says why at its top.
STORAGE_ADAPTERS = frozenset({
    "chalicelib/bootstrap.py",                 # the composition root builds clients and repositories
    "chalicelib/tickets/attachments.py",       # S3 presigned uploads and downloads
    "chalicelib/notifications/channels.py",    # Amazon SES adapter
    "chalicelib/events/dispatcher.py",         # reads DynamoDB stream records
})
# context → the contexts it may import (types and pure rules; services meet through Protocols).
CONTEXT_ARROWS: dict[str, frozenset[str]] = {
    "sla": frozenset(),
    "events": frozenset(),
    "tenants": frozenset({"sla", "notifications"}),       # TenantConfig holds SLA policies and notification rules
    "residents": frozenset({"notifications"}),            # the OTP goes out through a notification channel
    "tickets": frozenset({"tenants", "sla"}),             # config (kinds, teams, dispatch rules) and SLA clocks
    "notifications": frozenset({"events"}),               # the catalogue says what notifies
    "webhooks": frozenset({"events"}),                    # public event catalogue and payload schemas
    "reports": frozenset({"events", "tickets", "tenants"}),
}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def violations_of(path: Path, imported: set[str]) -> list[str]:
    """Every rule a module breaks with these imports (empty when it follows them all)."""
    where, home, problems = rel(path), layer(path), []
    for name in sorted(imported):
        if name.startswith("chalicelib.bootstrap") and where != "chalicelib/bootstrap.py":
            problems.append(f"{where} imports the composition root ({name})")
        if name.split(".")[0] in ("pynamodb", "boto3", "botocore") or name.startswith("chalicelib.storage"):
            if home not in ("storage",) and not where.endswith("/repository.py") and where not in STORAGE_ADAPTERS:
                problems.append(f"{where} touches storage ({name}); only repositories may")
        if not name.startswith("chalicelib."):
            continue
        target = name.split(".")[1]
        if home in ("core", "storage") and (target in CONTEXTS or target == "bootstrap"):
            problems.append(f"{where} ({home}) imports a context ({name})")
        if home == "core" and target == "storage":
            problems.append(f"{where} (core) imports storage ({name})")
        if home in CONTEXTS and target in CONTEXTS and target != home and target not in CONTEXT_ARROWS[home]:
            problems.append(f"{where} ({home}) imports {target} ({name}): not an allowed arrow")
    return problems


def test_the_layering_holds():
    problems = [p for path in modules() for p in violations_of(path, imports_of(path))]
    assert not problems, "layering broken:\n" + "\n".join(problems)


@pytest.mark.parametrize(("module", "imported", "broken"), [
    ("chalicelib/tickets/intake.py", {"pynamodb.attributes"}, "touches storage"),
    ("chalicelib/tickets/api.py", {"chalicelib.bootstrap"}, "composition root"),
    ("chalicelib/core/http.py", {"chalicelib.tickets.domain"}, "imports a context"),
    ("chalicelib/sla/domain.py", {"chalicelib.tickets.repository"}, "not an allowed arrow"),
    ("chalicelib/tenants/staff.py", {"chalicelib.storage.keys"}, "touches storage"),
])
def test_each_rule_catches_its_break(module, imported, broken):
    assert any(broken in p for p in violations_of(ROOT / module, imported))
