"""Shape of the complaint forms (rules live in rules.py and services.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DateTimeLocalField, FloatField, HiddenField, IntegerField, MultipleFileField,
                     RadioField, SelectField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from portal.complaints.models import Category, Findings, RejectionCode
from portal.complaints.uploads import ACCEPT_ATTRIBUTE

CATEGORY_LABELS = {
    Category.AIR: _l("Air (waste gas, dust, odour)"), Category.WATER: _l("Water (waste water)"),
    Category.NOISE: _l("Noise"), Category.SOLID_WASTE: _l("Solid or hazardous waste"),
    Category.RADIATION: _l("Radiation (electromagnetic, nuclear)"), Category.ECOLOGY: _l("Ecological damage"),
    Category.SOIL: _l("Soil"), Category.MARINE: _l("Marine"), Category.OTHER: _l("Other pollution"),
}
REJECTION_LABELS = {
    RejectionCode.NOT_COMPETENT: _l("Not an environmental-bureau matter (tell the reporter which authority)"),
    RejectionCode.OTHER_LEGAL_ROUTE: _l("Belongs to litigation, arbitration or administrative review"),
    RejectionCode.DUPLICATE_IN_PROGRESS: _l("Already accepted; same matter reported again"),
    RejectionCode.REVIEW_ROUTE: _l("Disagrees with a reply on the same facts (use petition review)"),
}
FINDINGS_LABELS = {Findings.SUBSTANTIATED: _l("Violation found (substantiated)"),
                   Findings.NOT_SUBSTANTIATED: _l("No violation found")}
MAX_TEXT = 5000
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class IntakeForm(FlaskForm):
    category = RadioField(_l("What kind of pollution?"),
                          choices=[SelectChoice(c.value, label) for c, label in CATEGORY_LABELS.items()],
                          validators=[DataRequired(message=_l("Choose the kind of pollution."))])
    reported_name = StringField(_l("Enterprise or unit reported"), validators=[Length(max=200)])
    enterprise_uscc = StringField(_l("Its unified social credit code, if known"),
                                  validators=[Optional(), Length(min=18, max=18, message=_l(
                                      "A credit code has 18 characters."))])
    reported_address = StringField(_l("Address of the place"), validators=[Length(max=300)])
    region_code = SelectField(_l("District"), validators=[Optional()])
    latitude = FloatField(_l("Latitude (optional)"), validators=[Optional()])
    longitude = FloatField(_l("Longitude (optional)"), validators=[Optional()])
    observed_at = DateTimeLocalField(_l("When did you observe it?"), format="%Y-%m-%dT%H:%M",
                                     validators=[Optional()])
    description = TextAreaField(_l("What did you see, hear or smell?"),
                                validators=[DataRequired(message=_l("Describe what you observed.")),
                                            Length(max=MAX_TEXT)])
    photos = MultipleFileField(_l("Photos or videos (up to 5)"), render_kw={"accept": ACCEPT_ATTRIBUTE})
    identity = RadioField(_l("Report"), choices=[SelectChoice("anonymous", _l("anonymously")),
                                                 SelectChoice("named", _l("with my name and contact"))],
                          default="anonymous", validators=[DataRequired()])
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=64)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    # A plain pattern: WTForms' Email() needs the email_validator package, which the portal does not install.
    email = StringField(_l("E-mail"), validators=[Optional(), Regexp(EMAIL_PATTERN, message=_l(
        "Enter a valid e-mail address.")), Length(max=254)])
    id_no = StringField(_l("ID card number (needed only for a reward)"), validators=[Optional(), Length(max=18)])
    website = StringField(_l("Leave this field empty"))  # honeypot: hidden by CSS, filled only by bots
    submission_key = HiddenField()
    kept_token = HiddenField()  # files kept after a validation error (complaints/pending.py)
    duplicates_seen = HiddenField()  # "1" once the possible duplicates were shown


class TrackForm(FlaskForm):
    case_no = StringField(_l("Case number"), validators=[DataRequired(message=_l("Enter the case number.")),
                                                         Length(max=32)])
    code = StringField(_l("Query code"), validators=[DataRequired(message=_l("Enter the query code.")),
                                                     Length(max=20)])


class InformationForm(FlaskForm):
    text = TextAreaField(_l("Information to add"), validators=[Length(max=MAX_TEXT)])
    photos = MultipleFileField(_l("More photos or videos"), render_kw={"accept": ACCEPT_ATTRIBUTE})


class RatingForm(FlaskForm):
    score = RadioField(_l("How satisfied are you with the handling?"),
                       choices=[SelectChoice("5", _l("5 – very satisfied")), SelectChoice("4", _l("4 – satisfied")),
                                SelectChoice("3", _l("3 – neutral")), SelectChoice("2", _l("2 – dissatisfied")),
                                SelectChoice("1", _l("1 – very dissatisfied"))],
                       validators=[DataRequired(message=_l("Choose a rating."))])


class ReviewForm(FlaskForm):
    reason = TextAreaField(_l("Why is the reply not acceptable?"),
                           validators=[DataRequired(message=_l("Give the reason.")), Length(max=MAX_TEXT)])


class MonthForm(FlaskForm):
    """GET form choosing the bulletin's month (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2100)])
    month = IntegerField(_l("Month"), validators=[Optional(), NumberRange(min=1, max=12)])


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validators=[Optional()])
    sla = SelectField(_l("Deadline"), validators=[Optional()], choices=[
        SelectChoice("", _l("Any deadline")), SelectChoice("overdue", _l("Overdue")),
        SelectChoice("due_soon", _l("Due within 3 days")),
        SelectChoice("extension", _l("Extension waiting for approval"))])
    overdue = BooleanField(_l("Overdue only"))
    page = IntegerField(validators=[Optional(), NumberRange(min=1)])


def _optional_int(value) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class ActionForm(FlaskForm):
    """One form for every console decision; the service checks what each action needs."""

    action = HiddenField(validators=[DataRequired()])
    urgent = BooleanField(_l("Urgent (sudden or mass incident)"))
    rejection_code = SelectField(_l("Reason"), validators=[Optional()],
                                 choices=[SelectChoice(c.value, label) for c, label in REJECTION_LABELS.items()])
    handler_id = SelectField(_l("Handler"), coerce=int, validators=[Optional()])
    days = IntegerField(_l("Days (1–30)"), validators=[Optional(), NumberRange(min=1, max=30)])
    findings = SelectField(_l("Investigation findings"), validators=[Optional()],
                           choices=[SelectChoice(f.value, label) for f, label in FINDINGS_LABELS.items()])
    target_case_no = StringField(_l("Merge into case number"), validators=[Optional(), Length(max=32)])
    text = TextAreaField(_l("Text"), validators=[Optional(), Length(max=MAX_TEXT)])
    # Investigation note links (investigation.py): the document number and date, or a record of the enterprise.
    inspection_ref = StringField(_l("On-site inspection record number"), validators=[Optional(), Length(max=100)])
    inspection_on = DateField(_l("Inspection date"), validators=[Optional()])
    inspection_evidence_id = SelectField(_l("Or link an inspection record of the enterprise"), coerce=_optional_int,
                                         validators=[Optional()])
    penalty_doc_no = StringField(_l("Penalty decision number"), validators=[Optional(), Length(max=100)])
    penalty_on = DateField(_l("Penalty decision date"), validators=[Optional()])
    penalty_evidence_id = SelectField(_l("Or link a penalty record of the enterprise"), coerce=_optional_int,
                                      validators=[Optional()])


class LinkForm(FlaskForm):
    """The handler links, re-links or unlinks the case to a registered enterprise (empty code: unlink)."""

    uscc = StringField(_l("Credit code of the registered enterprise (empty to unlink)"),
                       validators=[Optional(), Length(max=18, message=_l("A credit code has 18 characters."))])
    reason = TextAreaField(_l("Reason for the link"), validators=[
        DataRequired(message=_l("Give the reason for the link (at least 5 characters).")), Length(max=1000)])


class TransferForm(FlaskForm):
    """Transfer the case to the jurisdiction where the pollution happens (choices: districts outside the user's)."""

    region_code = SelectField(_l("Competent district"), validators=[
        DataRequired(message=_l("Choose the city or county where the pollution happens."))])
    reason = TextAreaField(_l("Reason for the transfer"), validators=[
        DataRequired(message=_l("Give the reason for the transfer (at least 5 characters).")), Length(max=1000)])
