"""Forms of the integrity pages: the workflow steps and the rule data. Shape only; the services check the rules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, FloatField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

DT = "%Y-%m-%dT%H:%M"
REQ = _l("This field is required.")


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason for dismissing"), validators=[DataRequired(REQ), Length(max=4000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your explanation or correction"), validators=[DataRequired(REQ), Length(max=4000)])


class InspectionForm(FlaskForm):
    inspected_on = DateField(_l("Date of the on-site check"), validators=[DataRequired(REQ)])
    inspectors = StringField(_l("Inspectors"), validators=[DataRequired(REQ), Length(max=200)])
    note = TextAreaField(_l("What was checked and found"), validators=[DataRequired(REQ), Length(max=4000)])


class OutcomeForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=[SelectChoice("confirmed", _l("Falsification confirmed")),
                                                  SelectChoice("cleared", _l("Not confirmed"))])
    note = TextAreaField(_l("Basis of the outcome"), validators=[DataRequired(REQ), Length(max=4000)])


class ChannelForm(FlaskForm):
    device_id = SelectField(_l("Device"), coerce=int, validate_choice=False)
    pollutant_code = StringField(_l("Pollutant code"), validators=[DataRequired(REQ), Length(max=12)])
    range_low = FloatField(_l("Range, lower end"), default=0.0, validators=[Optional()])
    range_high = FloatField(_l("Range, upper end"), validators=[DataRequired(REQ)])
    detection_limit = FloatField(_l("Method detection limit"), validators=[Optional()])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=16)])


class MaintainerForm(FlaskForm):
    device_id = SelectField(_l("Device"), coerce=int, validate_choice=False)
    company_name = StringField(_l("O&M company"), validators=[DataRequired(REQ), Length(max=200)])
    company_uscc = StringField(_l("Its credit code"), validators=[Optional(), Length(max=18)])
    contract_from = DateField(_l("Contract from"), validators=[DataRequired(REQ)])
    contract_to = DateField(_l("Contract to"), validators=[Optional()])


class SupervisoryForm(FlaskForm):
    outlet_id = SelectField(_l("Outlet"), coerce=int, validate_choice=False)
    pollutant_code = StringField(_l("Pollutant code"), validators=[DataRequired(REQ), Length(max=12)])
    sampled_at = DateTimeLocalField(_l("Sampled at (China time)"), format=DT, validators=[DataRequired(REQ)])
    value = FloatField(_l("Value"), validators=[DataRequired(REQ)])
    agency = StringField(_l("Monitoring agency"), validators=[DataRequired(REQ), Length(max=200)])
    report_no = StringField(_l("Report number"), validators=[Optional(), Length(max=64)])


class LabSampleForm(FlaskForm):
    outlet_id = SelectField(_l("Outlet"), coerce=int, validate_choice=False)
    pollutant_code = StringField(_l("Pollutant code"), validators=[DataRequired(REQ), Length(max=12)])
    lab_name = StringField(_l("Laboratory"), validators=[DataRequired(REQ), Length(max=200)])
    lab_cma_no = StringField(_l("CMA certificate number"), validators=[DataRequired(REQ), Length(max=32)])
    method = StringField(_l("Analysis method"), validators=[DataRequired(REQ), Length(max=64)])
    samplers = StringField(_l("Samplers (comma-separated)"), validators=[DataRequired(REQ), Length(max=200)])
    sampling_start = DateTimeLocalField(_l("Sampling started (China time)"), format=DT, validators=[DataRequired(REQ)])
    sampling_end = DateTimeLocalField(_l("Sampling ended (China time)"), format=DT, validators=[DataRequired(REQ)])
    analysed_at = DateTimeLocalField(_l("Analysed at (China time)"), format=DT, validators=[Optional()])
    report_no = StringField(_l("Report number"), validators=[Optional(), Length(max=64)])
    report_issued_at = DateTimeLocalField(_l("Report issued at (China time)"), format=DT, validators=[Optional()])
    value_text = StringField(_l("Value as written on the report"), validators=[Optional(), Length(max=32)])


class LabScopeForm(FlaskForm):
    cma_no = StringField(_l("CMA certificate number"), validators=[DataRequired(REQ), Length(max=32)])
    lab_name = StringField(_l("Laboratory"), validators=[DataRequired(REQ), Length(max=200)])
    method = StringField(_l("Method in scope"), validators=[DataRequired(REQ), Length(max=64)])
    valid_to = DateField(_l("Certificate valid to"), validators=[Optional()])


CAUSE_LABELS = {"power": _l("Power failure"), "network": _l("Network or transmission link"),
                "analyser": _l("Analyser fault"), "acquisition": _l("Data acquisition unit"),
                "maintenance": _l("Maintenance or calibration"), "other": _l("Other")}
ANOMALY_STATE_LABELS = {"reported": _l("Reported"), "repaired": _l("Repaired"), "closed": _l("Closed")}


class AnomalyReportForm(FlaskForm):
    device_id = SelectField(_l("Monitoring device"), coerce=int, validate_choice=False,
                            validators=[DataRequired(_l("Choose one of your enterprise's monitoring devices."))])
    noticed_at = DateTimeLocalField(_l("Noticed at (China time)"), format=DT, validators=[
        DataRequired(_l("Enter when the anomaly was noticed, e.g. 2026-11-03 08:30."))])
    cause = SelectField(_l("Cause of the anomaly"), choices=[SelectChoice(k, v) for k, v in CAUSE_LABELS.items()],
                        validators=[DataRequired(_l("Choose the cause of the anomaly."))])
    description = TextAreaField(_l("What happened to the transmission"), validators=[DataRequired(REQ), Length(max=4000)])
    manual_substitute = TextAreaField(_l("How the data are obtained meanwhile (manual monitoring)"),
                                      validators=[DataRequired(REQ), Length(max=4000)])


class AnomalyRepairForm(FlaskForm):
    repaired_at = DateTimeLocalField(_l("Repaired at (China time)"), format=DT, validators=[
        DataRequired(_l("Enter when the equipment was repaired, e.g. 2026-11-04 16:00."))])
    note = TextAreaField(_l("What was repaired"), validators=[DataRequired(REQ), Length(max=4000)])


class AnomalyCloseForm(FlaskForm):
    note = TextAreaField(_l("Review note"), validators=[DataRequired(REQ), Length(max=4000)])
