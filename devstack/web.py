"""The built web apps on the API's own port, as CloudFront serves them in AWS (infra: the web bucket's behaviours):
``/console/…`` is the staff console and ``/r/<slug>/…`` a tenant's resident page. Same origin as ``/v1/…``, so
no CORS. A path with a file extension is a file of the build (404 if absent); any other path is a route of the
single-page app and gets its ``index.html``. Hashed assets are cached for a year, ``index.html`` never."""
from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_DIST = ROOT / "web" / "console" / "dist"
RESIDENT_DIST = ROOT / "web" / "resident" / "dist" / "build" / "h5"

_SLUG = re.compile(r"^/r/[a-z0-9][a-z0-9-]{1,39}(/.*)?$")
_TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml",
          ".json": "application/json; charset=utf-8", ".woff2": "font/woff2", ".ico": "image/x-icon"}
# What CloudFront's response-headers policy adds in AWS (infra), so the pages are tested under the same rules.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin",
                    "X-Frame-Options": "DENY"}


@dataclass(frozen=True)
class StaticFile:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class WebApps:
    console: Path = CONSOLE_DIST
    resident: Path = RESIDENT_DIST

    def lookup(self, path: str) -> StaticFile | None:
        """The file for a GET of ``path`` (query removed), or None when the path is not a web app's (the API's).

        >>> WebApps(Path("/nonexistent"), Path("/nonexistent")).lookup("/v1/me") is None
        True
        >>> WebApps(Path("/nonexistent"), Path("/nonexistent")).lookup("/console/queue").status
        404
        """
        if path == "/console":
            return _redirect("/console/")
        if path.startswith("/console/"):
            return _serve(self.console, path[len("/console/"):])
        if _SLUG.match(path):
            slug_end = path.index("/", 3) if path.count("/") > 2 else len(path)
            if slug_end == len(path):
                return _redirect(path + "/")
            return _serve(self.resident, path[slug_end + 1:])
        return None


def _redirect(location: str) -> StaticFile:
    return StaticFile(308, {"Location": location, "Content-Length": "0"}, b"")


def _serve(root: Path, relative: str) -> StaticFile:
    index = root / "index.html"
    if not index.is_file():
        return _not_built(root)
    name = relative.split("?", 1)[0]
    target = (root / name).resolve()
    if root.resolve() not in target.parents and target != root.resolve():
        return _missing()
    if Path(name).suffix:  # a file of the build: serve it or say it is not there
        if not target.is_file():
            return _missing()
        cache = "public, max-age=31536000, immutable" if "/assets/" in f"/{name}" else "no-cache"
        return _file(target, cache)
    return _file(index, "no-cache")  # a route of the single-page app


def _file(target: Path, cache: str) -> StaticFile:
    body = target.read_bytes()
    content_type = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return StaticFile(200, {"Content-Type": content_type, "Content-Length": str(len(body)), "Cache-Control": cache,
                            **SECURITY_HEADERS}, body)


def _missing() -> StaticFile:
    body = b"Not found"
    return StaticFile(404, {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))}, body)


def _not_built(root: Path) -> StaticFile:
    body = (f"This page is not built yet: {root.relative_to(ROOT) if ROOT in root.parents else root} has no "
            f"index.html. `make run` builds it; so does `make web`.").encode()
    return StaticFile(503, {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body))}, body)
