"""The public search form (GET, no CSRF: it changes nothing)."""
from __future__ import annotations

from typing import Callable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from portal.enterprises.forms import PERMIT_CLASS_LABELS
from portal.enterprises.models import KeyUnitType
from portal.search.facets import DISCLOSURE_LABELS, GRADE_LABELS, LIST_LABELS

KEY_UNIT_LABELS = {
    KeyUnitType.WATER: _l("Water environment"),
    KeyUnitType.AIR: _l("Air environment"),
    KeyUnitType.GROUNDWATER: _l("Groundwater"),
    KeyUnitType.NOISE: _l("Noise"),
    KeyUnitType.SOIL: _l("Soil pollution"),
    KeyUnitType.RISK: _l("Environmental risk"),
}


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Name, credit code or permit number"), validators=[Optional(), Length(max=100)])
    region = SelectField(_l("Region"), choices=[], default="", validate_choice=True)
    industry = SelectField(_l("Industry"), choices=[], default="", validate_choice=True)
    key_unit = SelectField(_l("Key pollutant-discharge unit (this year)"), default="", validate_choice=True,
                           choices=[SelectChoice("", _l("Any"))]
                           + [SelectChoice(k.value, label) for k, label in KEY_UNIT_LABELS.items()])
    permit_class = SelectField(_l("Permit management class"), default="", validate_choice=True,
                               choices=[SelectChoice("", _l("Any"))]
                               + [SelectChoice(k.value, label) for k, label in PERMIT_CLASS_LABELS.items()])
    grade = SelectField(_l("Credit grade"), default="", validate_choice=True,
                        choices=[SelectChoice("", _l("Any"))] + [SelectChoice(k, v) for k, v in GRADE_LABELS.items()])
    list = SelectField(_l("Black / white list"), default="", validate_choice=True,
                       choices=[SelectChoice("", _l("Any"))] + [SelectChoice(k, v) for k, v in LIST_LABELS.items()])
    exceedance = SelectField(_l("Monitoring exceedances"), default="", validate_choice=True,
                             choices=[SelectChoice("", _l("Any")), SelectChoice("open", _l("Has open exceedances"))])
    disclosure = SelectField(_l("Annual disclosure (last year's report)"), default="", validate_choice=True,
                             choices=[SelectChoice("", _l("Any"))]
                             + [SelectChoice(k, v) for k, v in DISCLOSURE_LABELS.items()])
    sort = SelectField(_l("Sort by"), default="relevance",
                       choices=[SelectChoice("relevance", _l("Best match")), SelectChoice("name", _l("Name")),
                                SelectChoice("grade", _l("Credit grade, best first")),
                                SelectChoice("penalty", _l("Latest penalty, most recent first"))])

    FILTERS = ("region", "industry", "key_unit", "permit_class", "grade", "list", "exceedance", "disclosure", "sort")

    def set_choices(self, regions, industries, name: Callable[[object], str]) -> None:
        """Regions indented by level (an ideographic space per level), industries with their codes."""
        self.region.choices = [SelectChoice("", _l("All regions"))] + [
            SelectChoice(r.code, "\u3000" * (r.level - 1) + name(r)) for r in regions]
        self.industry.choices = [SelectChoice("", _l("All industries"))] + [
            SelectChoice(i.code, f"{i.code} {name(i)}") for i in industries]
