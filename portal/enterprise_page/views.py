"""GET /enterprises/<uscc>: the public enterprise page. The verdict (portal.enterprise_page.queries) opens it; every
domain's details follow as its own partial (templates/<domain>/_enterprise_section.html).

The endpoint is enterprise_page.public; the old name enterprises.public stays buildable (a build-only rule on the
same URL) so the many templates and link helpers that use it keep working."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.enterprise_page.queries import page_summary
from portal.enterprises import forms as registry_forms
from portal.enterprises import services
from portal.enterprises.compliance_queries import compliance_grid
from portal.enterprises.models import Enterprise, Outlet
from portal.enterprises.rules import check_uscc, normalise_code
from portal.extensions import db

bp = Blueprint("enterprise_page", __name__)
RULE = "/enterprises/<uscc>"


@bp.get(RULE)
def public(uscc: str):
    code = normalise_code(uscc)
    check = check_uscc(code)
    if not check.ok:
        return render_template("enterprises/not_found.html", code=uscc, message=check.error), 404
    if code != uscc:
        return redirect(url_for(".public", uscc=code), 301)
    ent = db.session.scalar(select(Enterprise).where(Enterprise.uscc == code).options(  # permits; outlets with limits
        selectinload(Enterprise.permits), selectinload(Enterprise.outlets).joinedload(Outlet.limits)))
    if ent is None:
        message = _("No enterprise with the credit code %(code)s is registered on this portal.", code=code)
        return render_template("enterprises/not_found.html", code=code, message=message), 404
    pdf_url = (url_for("reports.enterprise_summary", uscc=code)
               if "reports.enterprise_summary" in current_app.view_functions else None)
    grid = compliance_grid(ent.id)
    return render_template("enterprise_page/page.html", ent=ent, p=services.public_profile(ent), pdf_url=pdf_url,
                           grid=grid, s=page_summary(ent, grid=grid), L=registry_forms.template_labels())


@bp.record_once
def _keep_the_old_endpoint(state) -> None:
    """url_for("enterprises.public", ...) keeps building this page's URL; requests match enterprise_page.public."""
    state.app.add_url_rule(RULE, endpoint="enterprises.public", view_func=public, build_only=True)
