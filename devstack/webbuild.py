"""``make web``: the web apps' packages installed (``npm ci``, again only when the lockfile changed) and each app
built (``npm run build``, again only when its sources, its lockfile or the API types changed). What ``make run``
and ``make test`` call first, so a fresh clone serves the console at /console/ and a second run costs nothing.
``--deps`` stops after installing, ``--check`` only says whether a build is due."""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_TYPES = ROOT / "web" / "api" / "schema.d.ts"


@dataclass(frozen=True)
class WebApp:
    name: str
    folder: Path
    dist: Path
    sources: tuple[str, ...]

    @property
    def lockfile(self) -> Path:
        return self.folder / "package-lock.json"

    @property
    def deps_stamp(self) -> Path:
        return self.folder / "node_modules" / ".linli-installed"

    @property
    def build_stamp(self) -> Path:
        return self.dist / ".linli-build"

    def digest(self, paths: list[Path]) -> str:
        sha = hashlib.sha256()
        for path in sorted(paths):
            sha.update(str(path.relative_to(ROOT)).encode())
            sha.update(path.read_bytes())
        return sha.hexdigest()[:16]

    def deps_digest(self) -> str:
        return self.digest([self.folder / "package.json", self.lockfile])

    def source_digest(self) -> str:
        files = [API_TYPES] if API_TYPES.exists() else []
        for pattern in self.sources:
            files += [p for p in self.folder.glob(pattern) if p.is_file()]
        return self.digest(files + [self.folder / "package.json", self.lockfile])

    def deps_current(self) -> bool:
        return self.deps_stamp.is_file() and self.deps_stamp.read_text().strip() == self.deps_digest()

    def build_current(self) -> bool:
        return self.build_stamp.is_file() and self.build_stamp.read_text().strip() == self.source_digest()


APPS = (
    WebApp("console", ROOT / "web" / "console", ROOT / "web" / "console" / "dist",
           ("index.html", "vite.config.ts", "tsconfig.json", "src/**/*", "public/**/*")),
    # the resident H5 (uni build); `make test` also builds the WeChat mini-program from the same sources
    WebApp("resident app", ROOT / "web" / "resident", ROOT / "web" / "resident" / "dist" / "build" / "h5",
           ("index.html", "vite.config.ts", "tsconfig.json", "src/**/*")),
)


def _run(step: str, command: list[str], cwd: Path) -> None:
    """One line of progress; the tool's own output only when it fails."""
    started = time.monotonic()
    print(f"{step}… ", end="", flush=True)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        print("failed:")
        sys.stderr.write(done.stdout[-6000:] + done.stderr[-6000:])
        raise SystemExit(done.returncode)
    print(f"done in {time.monotonic() - started:.0f} s.")


def ensure(app: WebApp, *, build: bool = True) -> None:
    if shutil.which("npm") is None:
        raise SystemExit("Linli's web apps need Node.js 20 and npm on PATH (apt install nodejs npm; nvm install 20).")
    if not app.deps_current():
        _run(f"Installing the {app.name}'s npm packages into {app.folder.relative_to(ROOT)}/node_modules "
             f"(first run takes about a minute)",
             ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], app.folder)
        app.deps_stamp.write_text(app.deps_digest() + "\n")
    if build and not app.build_current():
        _run(f"Building the {app.name} ({app.folder.relative_to(ROOT)} → {app.dist.relative_to(ROOT)})",
             ["npm", "run", "--silent", "build"], app.folder)
        app.build_stamp.write_text(app.source_digest() + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.webbuild")
    parser.add_argument("--deps", action="store_true", help="install the npm packages only")
    parser.add_argument("--check", action="store_true", help="exit 1 when an app needs installing or building")
    args = parser.parse_args(argv)
    if args.check:
        stale = [a.name for a in APPS if not (a.deps_current() and a.build_current())]
        print("up to date" if not stale else f"to build: {', '.join(stale)}")
        return 1 if stale else 0
    for app in APPS:
        ensure(app, build=not args.deps)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
