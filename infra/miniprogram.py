"""The WeChat mini-program for ``make package``: the resident app's sources built with ``-p mp-weixin`` into
``out/mp-weixin/``, ready to open in WeChat DevTools and upload.

A mini-program belongs to one tenant (WeChat gives each property company its own AppID), so its build is
configured, never committed, by three variables:

- ``LINLI_MP_APPID`` — the tenant's AppID (``wx`` + 16 hex digits; the same as ``wechat_app_id`` in the tenant's
  configuration, which ``/v1/public/tenants/{slug}/wechat/login`` exchanges the login code with);
- ``LINLI_MP_TENANT`` — the tenant's slug, fixed in the build (a launch query or QR ``scene`` still picks the
  community);
- ``LINLI_MP_API`` — the public https address the mini-program calls (the web distribution's, see Deploy; it must
  be on the AppID's list of request domains in the WeChat console).

Without them the package is complete without a mini-program, and one line says so.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESIDENT = ROOT / "web" / "resident"
APPID_RE = re.compile(r"^wx[0-9a-f]{16}$")
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{2,31}$")
API_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/[\w./-]*)?$")
VARIABLES = ("LINLI_MP_APPID", "LINLI_MP_TENANT", "LINLI_MP_API")


class MiniProgramConfigError(ValueError):
    pass


@dataclass(frozen=True)
class MiniProgramConfig:
    app_id: str
    tenant: str
    api: str

    @classmethod
    def from_env(cls, env: dict[str, str]) -> MiniProgramConfig | None:
        """The configuration, ``None`` when none of it is set; a partial or malformed one is refused.

        Example
        -------
        >>> MiniProgramConfig.from_env({}) is None
        True
        >>> MiniProgramConfig.from_env({"LINLI_MP_APPID": "wx0123456789abcdef", "LINLI_MP_TENANT": "demo",
        ...                             "LINLI_MP_API": "https://linli.example.com/"}).api
        'https://linli.example.com'
        >>> MiniProgramConfig.from_env({"LINLI_MP_APPID": "wx123"})
        Traceback (most recent call last):
        ...
        infra.miniprogram.MiniProgramConfigError: LINLI_MP_APPID must be wx and 16 hex digits, not 'wx123'; \
LINLI_MP_TENANT is not set; LINLI_MP_API is not set
        """
        values = {name: env.get(name, "").strip() for name in VARIABLES}
        if not any(values.values()):
            return None
        problems = []
        for name, pattern, what in (("LINLI_MP_APPID", APPID_RE, "wx and 16 hex digits"),
                                    ("LINLI_MP_TENANT", SLUG_RE, "a tenant's slug"),
                                    ("LINLI_MP_API", API_RE, "an https:// address")):
            if not values[name]:
                problems.append(f"{name} is not set")
            elif not pattern.match(values[name]):
                problems.append(f"{name} must be {what}, not {values[name]!r}")
        if problems:
            raise MiniProgramConfigError("; ".join(problems))
        return cls(values["LINLI_MP_APPID"], values["LINLI_MP_TENANT"], values["LINLI_MP_API"].rstrip("/"))


def set_app_id(project_config: Path, app_id: str) -> None:
    """WeChat DevTools reads the AppID from ``project.config.json``; the committed manifest leaves it empty."""
    document = json.loads(project_config.read_text(encoding="utf-8"))
    document["appid"] = app_id
    project_config.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def build(out_dir: Path, config: MiniProgramConfig) -> str:
    """Build into ``out_dir/mp-weixin``, set the AppID and check the result (scripts/check-mp.mjs)."""
    from devstack.webbuild import APPS, ensure

    ensure(next(app for app in APPS if app.folder == RESIDENT), build=False)  # npm ci when the lockfile changed
    target = (out_dir / "mp-weixin").resolve()
    if target.exists():
        shutil.rmtree(target)
    env = {**os.environ, "UNI_OUTPUT_DIR": str(target), "VITE_LINLI_API": config.api,
           "VITE_LINLI_TENANT": config.tenant, "NODE_ENV": "production"}
    for command in (["npm", "run", "--silent", "build:mp-weixin"], ["node", "scripts/check-mp.mjs", str(target)]):
        done = subprocess.run(command, cwd=RESIDENT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    set_app_id(target / "project.config.json", config.app_id)
    return f"mini-program: {target}/ (AppID {config.app_id}, tenant {config.tenant}, API {config.api})"


def package(out_dir: Path, env: dict[str, str] | None = None) -> str:
    """One line: what was built, or why nothing was."""
    config = MiniProgramConfig.from_env(dict(os.environ if env is None else env))
    if config is None:
        return ("mini-program: not built (set " + ", ".join(VARIABLES) + " to build a tenant's into "
                f"{out_dir}/mp-weixin/)")
    return build(out_dir, config)


if __name__ == "__main__":  # python -m infra.miniprogram OUT_DIR (make test builds a made-up tenant's this way)
    import sys

    try:
        print(package(Path(sys.argv[1] if len(sys.argv) > 1 else "out")))  # noqa: T201
    except (MiniProgramConfigError, RuntimeError) as exc:
        sys.exit(f"mini-program: {exc}")
