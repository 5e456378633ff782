"""Shapes of the permit forms (the rules live in services.py and rules.py) and the labels of permit states."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.enterprises.models import PermitStatus
from portal.permits.models import ReportFrequency, ReportStatus

STATE_LABELS = {PermitStatus.IN_FORCE.value: _l("In force"), PermitStatus.SHUTDOWN.value: _l("Shut down (停产)"),
                PermitStatus.REVOKED.value: _l("Revoked or withdrawn"),
                PermitStatus.CANCELLED.value: _l("Cancelled (注销)"), "expired": _l("Expired")}
FREQUENCY_LABELS = {ReportFrequency.YEAR: _l("Annual"), ReportFrequency.HALF: _l("Half-year"),
                    ReportFrequency.QUARTER: _l("Quarterly"), ReportFrequency.MONTH: _l("Monthly")}
REPORT_STATUS_LABELS = {ReportStatus.PENDING: _l("due"), ReportStatus.ON_TIME: _l("filed on time"),
                        ReportStatus.LATE: _l("filed late"), ReportStatus.MISSING: _l("not filed by the deadline"),
                        ReportStatus.SHUTDOWN: _l("shut down for the whole period (shutdown statement)")}


class FileReportForm(FlaskForm):
    submitted_on = DateField(_l("Filed on the national platform on"), validators=[Optional()])
    receipt_no = StringField(_l("Receipt number of the national platform"), validators=[Optional(), Length(max=200)])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=4000)])


class StatusForm(FlaskForm):
    status = SelectField(_l("State"), choices=[SelectChoice(s.value, STATE_LABELS[s.value]) for s in PermitStatus])
    since = DateField(_l("Takes effect on"), validators=[Optional()])
    statement = TextAreaField(_l("Shutdown statement"), validators=[Optional(), Length(max=8000)])
