"""The public search form (GET, no CSRF: it changes nothing)."""
from __future__ import annotations

from typing import Callable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from portal.enterprises.models import KeyUnitType

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
    sort = SelectField(_l("Sort by"), default="relevance",
                       choices=[SelectChoice("relevance", _l("Best match")), SelectChoice("name", _l("Name"))])

    def set_choices(self, regions, industries, name: Callable[[object], str]) -> None:
        """Regions indented by level (an ideographic space per level), industries with their codes."""
        self.region.choices = [SelectChoice("", _l("All regions"))] + [
            SelectChoice(r.code, "\u3000" * (r.level - 1) + name(r)) for r in regions]
        self.industry.choices = [SelectChoice("", _l("All industries"))] + [
            SelectChoice(i.code, f"{i.code} {name(i)}") for i in industries]
