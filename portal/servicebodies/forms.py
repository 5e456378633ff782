"""Service-body forms: shape only."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.servicebodies.models import BodyEvidenceKind, BodyKind

KIND_LABELS = {BodyKind.EIA_WRITER: _l("EIA report writer"), BodyKind.MONITORING_LAB: _l("Monitoring laboratory"),
               BodyKind.AUTO_MONITORING_OPERATOR: _l("Automatic-monitoring operator"),
               BodyKind.THIRD_PARTY_TREATMENT: _l("Third-party treatment operator")}
EVIDENCE_LABELS = {BodyEvidenceKind.DATA_FALSIFIED: _l("Monitoring data tampered with or forged"),
                   BodyEvidenceKind.REPORT_UNTRUE: _l("Untrue or seriously inaccurate report"),
                   BodyEvidenceKind.NEGLIGENT_WORK: _l("Negligent work or serious quality problems"),
                   BodyEvidenceKind.QUALIFICATION_BREACH: _l("Work outside or without qualification"),
                   BodyEvidenceKind.OPERATION_FAILURE: _l("Poor operation causing missing or distorted data"),
                   BodyEvidenceKind.COMMENDATION: _l("Commendation")}


class BodyForm(FlaskForm):
    uscc = StringField(_l("Unified social credit code"), validators=[Length(max=40)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    kind = SelectField(_l("Kind of service body"), choices=[SelectChoice("", "—")] + [SelectChoice(k.value, v) for k, v in KIND_LABELS.items()])
    region_code = SelectField(_l("Registered in"), choices=[], validate_choice=False)
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    qualification_no = StringField(_l("Qualification certificate number"), validators=[Optional(), Length(max=100)])


class EngagementForm(FlaskForm):
    enterprise_uscc = StringField(_l("Credit code of the enterprise served"), validators=[Length(max=40)])
    service = StringField(_l("Service"), validators=[Optional(), Length(max=200)])
    starts_on = DateField(_l("From"), validators=[Optional()])
    ends_on = DateField(_l("Until"), validators=[Optional()])


class FindingForm(FlaskForm):
    kind = SelectField(_l("Finding"), choices=[SelectChoice("", "—")] + [SelectChoice(k.value, v) for k, v in EVIDENCE_LABELS.items()])
    title = StringField(_l("What was found"), validators=[Length(max=300)])
    document_no = StringField(_l("Document number"), validators=[Length(max=100)])
    occurred_on = DateField(_l("Document date"), validators=[Optional()])
    authority = StringField(_l("Issued by"), validators=[Optional(), Length(max=100)])
    enterprise_uscc = StringField(_l("Credit code of the client concerned (optional)"),
                                  validators=[Optional(), Length(max=40)])


class SchemeForm(FlaskForm):
    rules = TextAreaField(_l("Scheme rules (JSON)"))
