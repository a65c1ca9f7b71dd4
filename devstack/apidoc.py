"""``make api-types``: the OpenAPI document the app serves, written to web/api/openapi.json, and the TypeScript
types both web apps compile against, generated from it by openapi-typescript into web/api/schema.d.ts. Both are
committed; tests/web/test_api_types.py fails when they no longer match what the app serves."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "web" / "api" / "openapi.json"
TYPES = ROOT / "web" / "api" / "schema.d.ts"
GENERATOR = ROOT / "web" / "console" / "node_modules" / ".bin" / "openapi-typescript"


def current_document() -> dict:
    """The document as the deployed app serves it, built in a fresh interpreter from the route registry (no stack,
    no AWS): the same whatever this process imported before, e.g. without the local stage's dev-only routes."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    environment["LINLI_STAGE"] = "dev"
    done = subprocess.run([sys.executable, "-c", _BUILD], cwd=ROOT, env=environment, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


_BUILD = """
import json
import app  # registers every route
from chalicelib.core.http import api
from chalicelib.core.openapi import build_document
print(json.dumps(build_document(api)))
"""


def render(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def generate_types(document_path: Path, types_path: Path) -> None:
    # Fields with a default are optional in requests (--default-non-nullable=false): what pydantic accepts.
    subprocess.run([str(GENERATOR), str(document_path), "-o", str(types_path), "--default-non-nullable=false"],
                   check=True, capture_output=True, text=True)


def main() -> int:
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(render(current_document()), encoding="utf-8")
    if not GENERATOR.exists():
        print(f"{GENERATOR.relative_to(ROOT)} is missing: run `make web-deps` first.", file=sys.stderr)
        return 1
    generate_types(DOCUMENT, TYPES)
    print(f"wrote {DOCUMENT.relative_to(ROOT)} and {TYPES.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
