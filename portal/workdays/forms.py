"""Shape of the calendar override form (the rules live in services.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
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


class ScheduleImportForm(FlaskForm):
    year = IntegerField(_l("Year of the schedule"), validators=[
        DataRequired(message=_l("Enter the year the schedule is for, e.g. 2027.")),
        NumberRange(min=2000, max=2100, message=_l("Enter a year between 2000 and 2100."))])
    file = FileField(_l("Schedule table (CSV or XLSX)"),
                     validators=[DataRequired(message=_l("Choose a CSV or XLSX file."))])
