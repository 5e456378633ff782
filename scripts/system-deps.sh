#!/usr/bin/env bash
# Installs the Debian packages a target needs, only when missing (STACK.md §3, §6, §10).
#   scripts/system-deps.sh run     CJK font + HarfBuzz subsetter for WeasyPrint PDFs; a C compiler (and the Python
#                                  headers when the interpreter has none) for the HJ 212 fast path (`make native`);
#                                  PostgreSQL's client programs (pg_dump, pg_restore, psql) for `flask backup` and
#                                  `flask restore` on PostgreSQL, when pg_dump is not on the PATH
#   scripts/system-deps.sh test    + poppler-utils (PDF text checks) + Debian Chromium/ChromeDriver (browser tests)
#                                  + redis-server (rate limits shared across workers; the test skips when no Redis
#                                  answers on 127.0.0.1:6379)
#   scripts/system-deps.sh bench   + wrk (HTTP load generator)
set -euo pipefail
target="${1:-run}"
pkgs=(libharfbuzz-subset0 fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 fontconfig
      gcc libc6-dev)
python_include="$(${PYTHON:-python3} -c 'import sysconfig; print(sysconfig.get_path("include"))')"
[ -f "$python_include/Python.h" ] || pkgs+=(python3-dev)  # Debian's python3 ships its headers apart
command -v pg_dump >/dev/null || pkgs+=(postgresql-client)  # the backup tests run them against PostgreSQL too
case "$target" in
  run) ;;
  test) pkgs+=(poppler-utils chromium chromium-driver redis-server) ;;
  bench) pkgs+=(poppler-utils wrk) ;;
  *) echo "usage: $0 run|test|bench" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Please install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fc-cache -f >/dev/null 2>&1 || true
