"""Open-day forms: shape only (the rules are in opendays.rules, applied by the services)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.opendays.rules import MAX_PARTY


class OpenDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[Optional()])
    start_time = TimeField(_l("Starts at"), validators=[Optional()])
    end_time = TimeField(_l("Ends at"), validators=[Optional()])
    place = StringField(_l("Meeting place"), validators=[Length(max=300)])
    facility = StringField(_l("Facility to visit"), validators=[Length(max=200)],
                           description=_l("For example: wastewater treatment station, online monitoring room."))
    capacity = IntegerField(_l("Capacity (visitors)"), validators=[Optional()])
    how_to_register = TextAreaField(_l("How to register"), validators=[Length(max=2000)],
                                    description=_l("Registration on this page is always open; add anything else "
                                                   "visitors need to know (ID at the gate, age limits)."))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=2000)])


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason for cancelling"), validators=[Length(max=500)])


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(message=_l("Give your name.")), Length(max=64)])
    phone = StringField(_l("Phone"), validators=[DataRequired(message=_l("Give a phone number.")), Length(max=32)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    party_size = IntegerField(_l("Number of visitors, including you"), default=1,
                              validators=[DataRequired(message=_l("Give the number of visitors.")),
                                          NumberRange(min=1, max=MAX_PARTY)])
    website = StringField(_l("Leave this field empty"))  # honeypot: hidden by CSS, filled only by bots
    submission_key = HiddenField()
