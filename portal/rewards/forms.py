"""Reward forms: shape only; the rules are in rules.py and the services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.rewards.models import PaymentMethod

METHOD_LABELS = {PaymentMethod.BANK_TRANSFER: _l("Bank transfer"), PaymentMethod.E_PAYMENT: _l("Electronic payment"),
                 PaymentMethod.CASH: _l("Cash"), PaymentMethod.HONORARY: _l("Honorary reward (certificate)")}


class ProposeForm(FlaskForm):
    tier = SelectField(_l("Reward tier"), choices=[], validate_choice=False)
    is_insider = BooleanField(_l("The reporter is an insider of the reported enterprise"))
    already_known = BooleanField(_l("The bureau already knew of the violation"))
    already_known_note = TextAreaField(_l("How the bureau knew"), validators=[Optional(), Length(max=2000)])


class DecideForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("approve", _l("Approve")), SelectChoice("reject", _l("Reject"))],
                          validators=[DataRequired(_l("Choose approve or reject."))])
    decision_note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class PaymentForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[Optional()])
    payment_method = SelectField(_l("Payment method"), choices=[SelectChoice("", "—")] + [SelectChoice(m.value, lab) for m, lab in METHOD_LABELS.items()])
    payment_reference = StringField(_l("Payment reference"), validators=[Optional(), Length(max=100)])


class TableForm(FlaskForm):
    table = TextAreaField(_l("Reward table (JSON)"), validators=[DataRequired(_l("Enter the table."))])
