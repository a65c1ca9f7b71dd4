"""Build the deployable template: ``chalice package`` merged with ``infra/resources.json``.

Usage: ``python -m infra.package OUT_DIR [--stage prod] [--no-deps]``. ``--no-deps`` skips
bundling the runtime wheels (tests use it to read the template quickly).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(out_dir: Path, stage: str = "prod", with_deps: bool = True) -> Path:
    out_dir = out_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="linli-package-") as tmp:
        project = Path(tmp) / "linli"
        project.mkdir()
        shutil.copy(ROOT / "app.py", project / "app.py")
        shutil.copytree(ROOT / "chalicelib", project / "chalicelib",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / ".chalice", project / ".chalice", ignore=shutil.ignore_patterns("deployments"))
        if with_deps:
            deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
            (project / "requirements.txt").write_text("\n".join(d for d in deps if not d.startswith("chalice")))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        subprocess.run([str(Path(sys.executable).with_name("chalice")), "package", "--stage", stage,
                        "--merge-template", str(ROOT / "infra" / "resources.json"), str(out_dir)],
                       cwd=project, check=True,
                       env={**{k: v for k, v in os.environ.items() if not k.startswith("LINLI_")},  # the stage's own
                            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")})
    return out_dir / "sam.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--no-deps", action="store_true")
    args = parser.parse_args()
    template = build(args.out_dir, args.stage, with_deps=not args.no_deps)
    print(f"template: {template}")


if __name__ == "__main__":
    main()
