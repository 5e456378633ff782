"""Forms of the data-error pages: the public report, the tracking look-up and the regulator's decision."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.dataerrors.models import Section, Status
from portal.dataerrors.rules import MAX_DESCRIPTION

SECTION_LABELS = {
    Section.IDENTITY: _l("Registration details"),
    Section.PERMITS: _l("Pollutant discharge permits"),
    Section.OUTLETS: _l("Outlets, pollutants and limits"),
    Section.COMPLIANCE: _l("Compliance in the last 12 quarters"),
    Section.MONITORING: _l("Self-monitoring data"),
    Section.CREDIT: _l("Environmental credit"),
    Section.DISCLOSURES: _l("Disclosure reports"),
    Section.COMPLAINTS: _l("Complaint counts"),
    Section.OTHER: _l("Something else"),
}
STATUS_LABELS = {
    Status.RECEIVED: _l("Waiting to be checked"),
    Status.ACKNOWLEDGED: _l("Being checked"),
    Status.CORRECTED: _l("Corrected"),
    Status.REJECTED: _l("Not corrected"),
}


class ReportForm(FlaskForm):
    section = SelectField(_l("Which part of the page is wrong?"),
                          choices=[SelectChoice(s.value, label) for s, label in SECTION_LABELS.items()],
                          validators=[DataRequired(message=_l("Choose the part of the page."))])
    description = TextAreaField(_l("What is wrong, and what is right?"),
                                validators=[DataRequired(message=_l("Say what is wrong.")),
                                            Length(max=MAX_DESCRIPTION)])
    contact_name = StringField(_l("Your name (optional)"), validators=[Optional(), Length(max=64)])
    contact = StringField(_l("Phone or e-mail (optional)"), validators=[Optional(), Length(max=254)])
    website = StringField(_l("Leave this field empty"))  # honeypot: hidden by CSS, filled only by bots
    submission_key = HiddenField()


class TrackForm(FlaskForm):
    class Meta:
        csrf = False  # a GET look-up

    code = StringField(_l("Tracking code"), validators=[DataRequired(message=_l("Enter the tracking code.")),
                                                        Length(max=20)])


class ActionForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_DESCRIPTION)])
