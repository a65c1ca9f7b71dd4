"""Build the deployable template: ``chalice package`` merged with ``infra/resources.json``.

Usage: ``python -m infra.package OUT_DIR [--stage prod] [--no-deps]``. ``--no-deps`` skips
bundling the runtime wheels (tests use it to read the template quickly). The built web apps, where
they exist, are copied to ``OUT_DIR/web/`` as the web distribution serves them (``console/``, ``r/``), and
a tenant's WeChat mini-program is built into ``OUT_DIR/mp-weixin/`` when it is configured (``infra.miniprogram``).

The Lambda runtime comes from the project, not from the laptop: ``chalice package`` names the
runtime after the interpreter running it and bundles wheels built for that interpreter, so a
package made on another Python is refused, and every function's ``Runtime`` in the template is
set from :data:`RUNTIME` (``python`` + pyproject's one allowed minor version).

The deployment zip carries compiled bytecode beside every module (``with_bytecode``): Lambda's file system is
read-only, so a module shipped as source alone is compiled again by every new container, on its first request.
The bytecode is never checked against its source (``UNCHECKED_HASH``), so it holds whatever times the zip gives
the files; it is made by the same Python as the runtime (above).
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path
from py_compile import PycInvalidationMode

from infra import miniprogram

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


def python_version(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The one ``major.minor`` that pyproject's ``requires-python`` (``>=3.11,<3.12``) allows.

    Example
    -------
    >>> python_version()
    '3.11'
    """
    spec = tomllib.loads(pyproject.read_text())["project"]["requires-python"]
    bounds = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", spec.replace(" ", ""))
    if bounds is None or int(bounds[2]) != int(bounds[1]) + 1:
        raise ValueError(f"requires-python must read '>=3.N,<3.N+1' (one Lambda runtime), not {spec!r}")
    return f"3.{bounds[1]}"


PYTHON_VERSION = python_version()
RUNTIME = f"python{PYTHON_VERSION}"


class WrongPythonError(RuntimeError):
    pass


def check_interpreter(version_info: tuple[int, ...] = tuple(sys.version_info)) -> None:
    """``chalice package`` runs on this interpreter and bundles wheels for it: it must be the project's.

    Example
    -------
    >>> check_interpreter((3, 12, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    infra.package.WrongPythonError: Linli packages for python3.11 (Lambda runtime); this is Python 3.12, ...
    """
    found = ".".join(str(n) for n in version_info[:2])
    if found != PYTHON_VERSION:
        raise WrongPythonError(
            f"Linli packages for {RUNTIME} (Lambda runtime); this is Python {found}, whose wheels would not load "
            f"there: run make package with python{PYTHON_VERSION} (make clean first if .venv/ holds another Python).")


def pin_runtime(template: dict) -> list[str]:
    """Set every function's ``Runtime`` (and the functions' Globals, if any) to :data:`RUNTIME`; returns the
    functions' logical ids."""
    functions = [name for name, resource in template.get("Resources", {}).items()
                 if resource.get("Type") in FUNCTION_TYPES]
    for name in functions:
        template["Resources"][name].setdefault("Properties", {})["Runtime"] = RUNTIME
    if "Runtime" in template.get("Globals", {}).get("Function", {}):
        template["Globals"]["Function"]["Runtime"] = RUNTIME
    return functions


def build(out_dir: Path, stage: str = "prod", with_deps: bool = True) -> Path:
    check_interpreter()
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
    with_bytecode(out_dir / "deployment.zip")
    template_path = out_dir / "sam.json"
    template = json.loads(template_path.read_text())
    pin_runtime(template)
    template_path.write_text(json.dumps(template, indent=2))
    return template_path


def with_bytecode(archive: Path) -> int:
    """Add the compiled bytecode of every module in the zip (``__pycache__/*.cpython-311.pyc``); returns how many
    modules were compiled. A module that does not compile on this Python (a dependency's file for another version)
    stays source only, as it was."""
    with tempfile.TemporaryDirectory(prefix="linli-bytecode-") as tmp:
        tree = Path(tmp)
        with zipfile.ZipFile(archive) as source:
            entries = source.infolist()
            source.extractall(tree)
        compileall.compile_dir(tree, quiet=2, workers=0, force=True,
                               invalidation_mode=PycInvalidationMode.UNCHECKED_HASH)
        compiled = sorted(p for p in tree.rglob("*.pyc") if p.parent.name == "__pycache__")
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in entries:
                if entry.filename.endswith(".pyc"):
                    continue  # (a wheel's own bytecode, if any: compiled again above, written once below)
                target.writestr(entry, (tree / entry.filename).read_bytes() if not entry.is_dir() else b"")
            for path in compiled:
                info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                target.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return len(compiled)


# What the web distribution serves from its bucket (infra/resources.json: WebDistribution), in the order tried:
# the first build folder holding an index.html is copied to out/web/<prefix>/ (``aws s3 sync out/web s3://…``).
WEB_BUILDS = (  # (what, its prefix on the distribution, its build folders)
    ("console", "console", (Path("web/console/dist"),)),
    ("resident pages", "r", (Path("web/resident/dist/build/h5"), Path("web/resident/dist"))),
)


def copy_web_builds(out_dir: Path, root: Path = ROOT) -> str:
    """Copy the built web apps into ``out_dir/web/<prefix>/``; one line saying what was copied and what is not
    built (the package is complete without them: the template does not depend on the bucket's content).

    Example
    -------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as nothing_built:
    ...     print(copy_web_builds(Path("out"), root=Path(nothing_built)))  # doctest: +ELLIPSIS
    web: nothing to sync (console not built: no index.html in web/console/dist; resident pages not built: ...)
    """
    copied, missing = [], []
    for what, prefix, candidates in WEB_BUILDS:
        build_dir = next((root / c for c in candidates if (root / c / "index.html").is_file()), None)
        if build_dir is None:
            missing.append(f"{what} not built: no index.html in {' or '.join(str(c) for c in candidates)}")
            continue
        target = out_dir / "web" / prefix
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(build_dir, target, ignore=shutil.ignore_patterns(".*"))  # no build stamps in the bucket
        files = sum(1 for f in target.rglob("*") if f.is_file())
        copied.append(f"{target}/ from {build_dir.relative_to(root)} ({files} files)")
    if not copied:
        return f"web: nothing to sync ({'; '.join(missing)})"
    return "web: " + "; ".join(copied + missing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--no-deps", action="store_true")
    args = parser.parse_args()
    try:
        template = build(args.out_dir, args.stage, with_deps=not args.no_deps)
    except WrongPythonError as exc:
        sys.exit(str(exc))
    print(f"template: {template}")
    print(copy_web_builds(args.out_dir))
    try:
        print(miniprogram.package(args.out_dir))
    except (miniprogram.MiniProgramConfigError, RuntimeError) as exc:
        sys.exit(f"mini-program: {exc}")


if __name__ == "__main__":
    main()
