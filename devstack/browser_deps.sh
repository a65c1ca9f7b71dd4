#!/usr/bin/env bash
# `make browser-deps`: what the browser tests drive — Debian's Chromium, and CJK fonts so Chinese text renders in
# the screenshots (no browser download: Playwright drives /usr/bin/chromium). Installs what is missing with apt-get
# when run as root (or with password-less sudo); otherwise says exactly what to install.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G '/usr/share/fonts/opentype/noto/NotoSansCJK*' >/dev/null || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "The browser tests need: ${missing[*]}. Install them (sudo apt-get install -y ${missing[*]}) and run make test again." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "The browser tests need Chromium at /usr/bin/chromium and Noto Sans CJK fonts; this machine has no apt-get to install ${missing[*]}." >&2
  exit 1
fi
printf 'Installing %s from Debian packages (first run takes about a minute)… ' "${missing[*]}"
started=$SECONDS
log=$(mktemp)
if $sudo apt-get update -qq >"$log" 2>&1 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
  echo "done in $((SECONDS - started)) s."; rm -f "$log"
else
  echo "failed:"; cat "$log" >&2; rm -f "$log"; exit 1
fi
