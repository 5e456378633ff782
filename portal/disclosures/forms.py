"""Form shapes. Section and trigger forms are built from the catalogue in rules.py and parsed in views.py."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, PasswordField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.disclosures.models import ReviewFlag

CHECK_LABELS = {
    "sections_present": _l("Every required section is present or declared not applicable"),
    "units_present": _l("Units are given for every figure"),
    "uscc_valid": _l("Credit code and permit numbers are valid"),
    "numbers_non_negative": _l("Numbers are non-negative and totals are consistent"),
    "commitment_signed": _l("The commitment is signed by the enterprise"),
    "plain_language": _l("Plain, objective wording without exaggeration or marketing claims"),
}
FLAG_LABELS = {
    ReviewFlag.NONE: _l("No finding"),
    ReviewFlag.NON_COMPLIANT: _l("Not per the format guidelines (不符合准则)"),
    ReviewFlag.UNTRUE: _l("Untrue (不真实)"),
    ReviewFlag.INACCURATE: _l("Inaccurate (不准确)"),
}


class NewAnnualForm(FlaskForm):
    year = SelectField(_l("Report year"), coerce=int)


class SignForm(FlaskForm):
    password = PasswordField(_l("Your login password (to sign)"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Second-factor code (to sign)"),
                       validators=[DataRequired(_l("Enter the 6-digit code your authenticator app shows now, or a "
                                                   "recovery code.")), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"})


class ReviewForm(FlaskForm):
    sections_present = BooleanField(CHECK_LABELS["sections_present"])
    units_present = BooleanField(CHECK_LABELS["units_present"])
    uscc_valid = BooleanField(CHECK_LABELS["uscc_valid"])
    numbers_non_negative = BooleanField(CHECK_LABELS["numbers_non_negative"])
    commitment_signed = BooleanField(CHECK_LABELS["commitment_signed"])
    plain_language = BooleanField(CHECK_LABELS["plain_language"])
    flag = RadioField(_l("Review result"), choices=[SelectChoice(f.value, label) for f, label in FLAG_LABELS.items()],
                      default=ReviewFlag.NONE.value, validators=[DataRequired()])
    note = TextAreaField(_l("Note to the enterprise"), validators=[Optional(), Length(max=2000)])


class DiscardForm(FlaskForm):
    confirm = BooleanField(_l("Yes, discard this draft; it cannot be restored"), validators=[DataRequired(
        message=_l("Tick the box to confirm that the draft is to be discarded."))])


class VerifyForm(FlaskForm):
    digest = StringField(_l("SHA-256 digest"), validators=[Optional(), Length(max=200)])
    pdf = FileField(_l("Or upload the PDF copy"))
