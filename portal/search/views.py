"""Home page and public enterprise search (GET only, works without JavaScript)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import get_locale

from portal.errors import DomainError
from portal.search import queries, reference
from portal.search.facets import GRADE_LABELS
from portal.search.forms import SearchForm
from portal.search.highlight import highlight, matches

bp = Blueprint("search", __name__)


def local_name(obj) -> str:
    """Region / industry name in the page language (English names fall back to Chinese)."""
    if obj is None:
        return ""
    if str(get_locale()).startswith("en") and getattr(obj, "name_en", ""):
        return obj.name_en
    return obj.name


@bp.app_context_processor
def _search_helpers():
    return {"local_name": local_name}


@bp.get("/")
def home():
    stats = reference.cached_home_stats()
    form = SearchForm(formdata=None)
    return render_template("search/home.html", stats=stats, form=form)


@bp.get("/search")
def search():
    form = SearchForm(request.args)
    form.set_choices(reference.regions_for_select(), reference.industries_for_select(), local_name)
    result = error = None
    if request.args:
        if form.validate():
            params = queries.SearchParams(q=form.q.data or "", region=form.region.data or "",
                                          industry=form.industry.data or "", key_unit=form.key_unit.data or "",
                                          permit_class=form.permit_class.data or "",
                                          grade=form.grade.data or "", list=form.list.data or "",
                                          exceedance=form.exceedance.data or "",
                                          disclosure=form.disclosure.data or "",
                                          sort=form.sort.data or "relevance", after=request.args.get("cursor", ""),
                                          per_page=current_app.config["SEARCH_PER_PAGE"])
            try:
                result = queries.search_enterprises(params)
            except DomainError as exc:
                error = exc
                if exc.field in form and exc.field != "cursor":
                    form[exc.field].errors = [exc.message]
    query = form.q.data or ""
    return render_template("search/results.html", form=form, result=result, error=error, query=query,
                           page_url=_page_url, highlight=highlight, matches=matches,
                           first_page_url=url_for("search.search", **_args_without_cursor()),
                           cap=queries.TOTAL_CAP, grade_labels=GRADE_LABELS)


def _page_url(cursor: str | None) -> str | None:
    if not cursor:
        return None
    return url_for("search.search", **_args_without_cursor(), cursor=cursor)


def _args_without_cursor() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "cursor" and v}
