"""Forms of the 双随机 roster and inspection pages (rules live in draw_inspections.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.credit.draw_models import InspectionTrigger

TRIGGER_LABELS = {
    InspectionTrigger.DRAW: _l("Random draw (routine check)"),
    InspectionTrigger.COMPLAINT: _l("Complaint"),
    InspectionTrigger.DATA_ANOMALY: _l("Monitoring data anomaly"),
    InspectionTrigger.REFERRAL: _l("Referral from another authority"),
    InspectionTrigger.ENTERPRISE_REQUEST: _l("Requested by the enterprise"),
}
CLASS_LABELS = {"special": _l("Special supervision object"), "key": _l("Key pollutant discharger"),
                "general": _l("General pollutant discharger")}


class InspectorForm(FlaskForm):
    name = StringField(_l("Inspector's name"), [InputRequired(), Length(max=64)])
    jurisdiction_code = StringField(_l("Authority's region code"), [InputRequired(), Length(max=6)])
    certificate_no = StringField(_l("Law-enforcement certificate number"), [InputRequired(), Length(max=40)])
    certificate_valid_from = DateField(_l("Certificate valid from"), [InputRequired()])
    certificate_valid_until = DateField(_l("Certificate valid until"), [InputRequired()])
    username = StringField(_l("Portal user name, if the inspector has an account (optional)"),
                           [Optional(), Length(max=64)])


class CaseInspectionForm(FlaskForm):
    uscc = StringField(_l("Unified social credit code"), [InputRequired(), Length(max=40)])
    trigger = SelectField(_l("Triggered by"), [InputRequired()], choices=[
        SelectChoice(t.value, label) for t, label in TRIGGER_LABELS.items() if t != InspectionTrigger.DRAW])
    certificates = StringField(_l("Inspectors' certificate numbers (at least two, separated by commas)"),
                               [InputRequired(), Length(max=400)])
    inspected_on = DateField(_l("Inspection day"), [InputRequired()])
    basis = TextAreaField(_l("Basis (the complaint case number or the alert)"), [InputRequired(), Length(max=2000)])
    result = TextAreaField(_l("Inspection result"), [InputRequired(), Length(max=4000)])


class ResultForm(FlaskForm):
    inspected_on = DateField(_l("Inspection day"), [InputRequired()])
    result = TextAreaField(_l("Inspection result"), [InputRequired(), Length(max=4000)])


class RatingForm(FlaskForm):
    score = RadioField(_l("Your rating of the inspection"), choices=[SelectChoice(str(n), str(n)) for n in range(5, 0, -1)],
                       validators=[DataRequired(message=_l("Choose a rating from 1 to 5."))])
    comment = TextAreaField(_l("Comment for the supervising body (optional)"), [Optional(), Length(max=1000)])
