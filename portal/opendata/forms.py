"""The public subscription form: shape only (the address rule and the scope look-up are in subscriptions.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

FREQUENCY_LABELS = {"immediate": _l("As soon as something happens"), "weekly": _l("A weekly digest (Mondays)")}


class SubscribeForm(FlaskForm):
    email = StringField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    frequency = RadioField(_l("How often"), choices=[SelectChoice(k, v) for k, v in FREQUENCY_LABELS.items()],
                           default="weekly",
                           validators=[DataRequired()])
    enterprise = HiddenField()
    region = HiddenField()
    website = StringField(_l("Website"))  # honeypot: people leave it empty
