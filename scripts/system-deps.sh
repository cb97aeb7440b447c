#!/usr/bin/env bash
# Installs the system packages the project needs, where missing (Debian/Ubuntu).
# Usage: scripts/system-deps.sh            -> install what is missing (needs root or sudo)
#        scripts/system-deps.sh --check    -> list what is missing, exit 1 if anything is
set -euo pipefail

# command -> Debian package
declare -A NEEDED=(
  [chromium]=chromium
  [pdftoppm]=poppler-utils
  [pdfsig]=poppler-utils
  [pdfdetach]=poppler-utils
  [unzip]=unzip
  [xmlsec1]=xmlsec1
  [xmllint]=libxml2-utils
  [softhsm2-util]=softhsm2
  [msgfmt]=gettext
  [certutil]=libnss3-tools
  [redis-server]=redis-server
  [pgbouncer]=pgbouncer  # make serve-cluster, and its test
  [haproxy]=haproxy
)
# shared libraries WeasyPrint loads at import time
LIBS=(libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz.so.0)
LIB_PKGS=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b)

missing=()
for cmd in "${!NEEDED[@]}"; do
  # (pgbouncer and haproxy live in /usr/sbin, not on every user's PATH)
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${NEEDED[$cmd]}")
done
# (read the cache once: `ldconfig -p | grep -q` fails under pipefail when grep stops early)
LDCACHE="$(ldconfig -p 2>/dev/null || true)"
for i in "${!LIBS[@]}"; do
  grep -qF "${LIBS[$i]}" <<<"$LDCACHE" || missing+=("${LIB_PKGS[$i]}")
done
# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sed '/^$/d' | sort -u)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "missing system packages: ${missing[*]}" >&2
  exit 1
fi

echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "Run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "apt-get update failed. Run: apt-get update && apt-get install -y ${missing[*]}" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
  echo "Install failed. Run: apt-get install -y ${missing[*]}" >&2; exit 1; }
