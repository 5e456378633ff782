#!/usr/bin/env bash
# Creates instance/portal.cfg with a random SECRET_KEY, reporter-encryption key and audit key on first use (never in git).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p instance
if [ ! -f instance/portal.cfg ]; then
  key=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))')
  akey=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))')
  fkey=$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  cat > instance/portal.cfg <<CFG
# Local settings for this machine; not in git. PORTAL_* environment variables override these.
SECRET_KEY = "$key"
REPORTER_KEY = "$fkey"
# Audit-log HMAC key: keep a copy outside this machine; without it `flask audit verify` cannot check the log.
AUDIT_KEY = "$akey"
# DATABASE_URL = "postgresql+psycopg://user@127.0.0.1:5432/portal"
CFG
  echo "Wrote instance/portal.cfg"
fi
