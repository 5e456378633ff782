#!/usr/bin/env bash
# Creates instance/portal.cfg with a random SECRET_KEY, reporter-encryption key and audit key on first use (never in
# git), and adds a fresh SECRET_KEY to an existing portal.cfg that has none or a weak one (the app refuses to start
# without a key of real strength: portal/config.py check_secret_key), and a reporter key and an audit key to one that
# has none (check_data_keys).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p instance
umask 077
new_key() { .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))'; }
if [ ! -f instance/portal.cfg ]; then
  key=$(new_key)
  akey=$(new_key)
  fkey=$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  cat > instance/portal.cfg <<CFG
# Local settings for this machine; not in git. PORTAL_* environment variables override these.
SECRET_KEY = "$key"
REPORTER_KEY = "$fkey"
# Audit-log HMAC key: keep a copy outside this machine; without it \`flask audit verify\` cannot check the log.
AUDIT_KEY = "$akey"
# DATABASE_URL = "postgresql+psycopg://user@127.0.0.1:5432/portal"
CFG
  echo "Wrote instance/portal.cfg"
  exit 0
fi
if ! .venv/bin/python - <<'PY'
import sys
from portal.config import check_secret_key
settings = {}
exec(compile(open("instance/portal.cfg").read(), "instance/portal.cfg", "exec"), settings)
sys.exit(1 if check_secret_key(settings.get("SECRET_KEY")) else 0)
PY
then
  key=$(new_key)
  sed -i '/^SECRET_KEY[[:space:]]*=/d' instance/portal.cfg
  printf 'SECRET_KEY = "%s"\n' "$key" >> instance/portal.cfg
  echo "instance/portal.cfg had no strong SECRET_KEY: wrote a new random one (existing sessions end)"
fi
if ! grep -q '^REPORTER_KEY[[:space:]]*=' instance/portal.cfg; then
  # Older installations encrypted with the repository's former default key: keep it second, to decrypt only.
  fkey=$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  printf 'REPORTER_KEY = "%s,ZGV2LW9ubHktcmVwb3J0ZXIta2V5LW5vdC1zZWNyZXQ="\n' "$fkey" >> instance/portal.cfg
  echo "instance/portal.cfg had no REPORTER_KEY: wrote a new random one (the former default only decrypts)"
fi
if ! grep -q '^AUDIT_KEY[[:space:]]*=' instance/portal.cfg; then
  printf '# Audit-log HMAC key: keep a copy outside this machine.\nAUDIT_KEY = "%s"\n' "$(new_key)" >> instance/portal.cfg
  echo "instance/portal.cfg had no AUDIT_KEY: wrote a new random one"
fi
