"""Words for the code's colours and reasons (stored as codes, translated when shown)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l

from portal.envcode.rules import Reason

COLOUR_LABELS = {"green": _l("Green code"), "yellow": _l("Yellow code"), "red": _l("Red code")}
COLOUR_MEANINGS = {
    "green": _l("No current cause for concern under the published rules."),
    "yellow": _l("Warning: at least one cause below needs the enterprise's attention."),
    "red": _l("Serious: at least one cause below is a serious failing."),
}
COLOUR_HEX = {"green": "#1e7b34", "yellow": "#9a7400", "red": "#b3261e"}  # WCAG AA on white, as portal.css
RULE_LABELS = {
    "grades": _l("Credit grade"),
    "other_grade": _l("A credit grade not named above"),
    "ungraded": _l("Not yet graded"),
    "black_list": _l("On the serious dishonesty (black) list"),
    "white_list": _l("On the enforcement positive list"),
    "open_incidents": _l("Exceedance incidents not yet explained"),
    "overdue_obligations": _l("Disclosure obligations past their deadline and not filed"),
}


def grade_labels(enterprise_id: int, english: bool) -> dict[str, str]:
    """Grade code → label in the enterprise's current scheme version (empty when it has no standing)."""
    from portal.credit.models import CreditStanding
    from portal.credit.services import parsed
    from portal.extensions import db

    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == enterprise_id))
    if standing is None:
        return {}
    scheme = parsed(standing.scheme_version)
    return {g.code: (g.label_en if english else g.label) for g in scheme.grades}


def reason_text(reason: Reason, grades: dict[str, str]) -> str:
    if reason.code == "grade":
        return _("Credit grade: %(grade)s", grade=grades.get(str(reason.value), str(reason.value)))
    if reason.code == "ungraded":
        return _("Not yet graded under the environmental credit scheme")
    if reason.code == "black_list":
        return _("On the serious environmental dishonesty (black) list")
    if reason.code == "white_list":
        return _("On the environmental enforcement positive list")
    if reason.code == "open_incidents":
        return _("Exceedance incidents not yet explained: %(n)s", n=reason.value)
    if reason.code == "overdue_obligations":
        return _("Disclosure obligations past their deadline and not filed: %(n)s", n=reason.value)
    return reason.code
