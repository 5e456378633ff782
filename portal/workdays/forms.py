"""Shape of the calendar override form (the rules live in services.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class OverrideForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Enter the date as YYYY-MM-DD."))])
    kind = RadioField(_l("This day is"), choices=[SelectChoice("workday", _l("a working day")),
                                                  SelectChoice("rest", _l("a day off"))],
                      validators=[DataRequired(message=_l("Choose working day or day off."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=100, message=_l(
        "The note may have at most 100 characters."))])


class DeleteOverrideForm(FlaskForm):
    """Carries only the CSRF token for the delete button."""


class MonthForm(FlaskForm):
    """GET form choosing the month shown (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=1990, max=2100)])
    month = IntegerField(_l("Month"), validators=[Optional(), NumberRange(min=1, max=12)])
