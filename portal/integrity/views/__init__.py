"""Integrity pages: the regulators' flag queue and flag pages (/regulator/integrity), the rule data per enterprise,
and the enterprise's warnings (/my/integrity). Both prefixes are served no-store (core/security.py).
`flask --app wsgi integrity scan` is this blueprint's CLI group (portal/integrity/cli.py)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("integrity", __name__, cli_group="integrity")

# The route modules attach their views to `bp`; imported here so registering the blueprint registers them all.
from portal.integrity import cli  # noqa: E402,F401
from portal.integrity.views import anomalies, data, flags  # noqa: E402,F401
