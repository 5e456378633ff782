#!/usr/bin/env bash
# `make run`: instance config, migrations, demo data on an empty database, then the web server and the scheduler
# as two child processes. Ctrl-C stops both; if one of them exits, the other is stopped too.
#   PORTAL_HOST (default 127.0.0.1) and PORTAL_PORT (default 5000) change the bind address; absolute links (e-mails,
#   PDFs, QR codes, feeds, the API) use PORTAL_PUBLIC_BASE_URL when set and this address otherwise.
#   PORTAL_DEMO_SIZE (full | small | none, default full) sizes the demo activity seeded into an empty database.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST="${PORTAL_HOST:-127.0.0.1}"
PORT="${PORTAL_PORT:-5000}"
# The seeding, the web server and the scheduler all build links on the address actually served.
export FLASK_APP=wsgi PORTAL_HOST="$HOST" PORTAL_PORT="$PORT"
PUBLIC="${PORTAL_PUBLIC_BASE_URL:-http://$HOST:$PORT}"

scripts/ensure-instance.sh
echo "== database: migrating"
$PY -m flask --app wsgi db upgrade
echo "== static files: brotli and gzip copies for WhiteNoise"
$PY -m flask --app wsgi static compress
echo "== demo data (only loaded into an empty registry)"
$PY -m flask --app wsgi seed-demo --life "${PORTAL_DEMO_SIZE:-full}"

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'echo; echo "== stopping"; stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

$PY -m gunicorn -w 2 -b "$HOST:$PORT" --access-logfile - --graceful-timeout 5 wsgi:app &
pids+=($!)
$PY -m flask --app wsgi jobs scheduler &
pids+=($!)

cat <<MSG

==========================================================================================
  Portal: http://$HOST:$PORT/      (scheduler runs alongside; Ctrl-C stops both)
  Links in e-mails, PDFs, QR codes and feeds: $PUBLIC/
  Demo accounts: admin, huaian_regulator, huaian_lead, lianshui_regulator, liaoning_regulator,
  ent_staff, ent_signatory. Their passwords were printed ONCE, in the table above, the first
  time this database was seeded. Lost them? Stop, delete instance/portal.sqlite3* and run
  \`make run\` again for a fresh demo database. Regulators, leads, the admin and signatories set up
  a second factor (an authenticator app, e.g. the QR code scanned by WeChat/Alipay/FreeOTP) at
  their first login. A forgotten password: flask --app wsgi users reset-password USERNAME
==========================================================================================

MSG

set +e
wait -n "${pids[@]}"
status=$?
set -e
echo "== a process exited (status $status); stopping the other"
stop_all
exit "$status"
