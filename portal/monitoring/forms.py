"""Shapes of the monitoring forms (the rules live in services.py and rules.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (DateField, DateTimeLocalField, DecimalField, HiddenField, PasswordField, SelectChoice, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class DeviceForm(FlaskForm):
    mn = StringField(_l("Device MN"), validators=[DataRequired(message=_l("Enter the MN set in the data logger.")),
                                                  Length(max=24, message=_l("The MN has at most 24 characters."))])
    password = PasswordField(_l("Device password (PW)"), validators=[
        DataRequired(message=_l("Enter the password set in the data logger.")),
        Length(max=64, message=_l("The password has at most 64 characters."))])
    uscc = StringField(_l("Unified social credit code"), validators=[
        DataRequired(message=_l("Enter the enterprise's 18-character credit code.")), Length(max=40)])
    outlet = StringField(_l("Outlet code"), validators=[
        DataRequired(message=_l("Enter the outlet code, for example DA001 or DW001.")), Length(max=8)])
    protocol = SelectField(_l("HJ 212 edition"), choices=[SelectChoice("2017", "HJ 212-2017"),
                                                                SelectChoice("2025", "HJ 212-2025")],
                           default="2017")
    sm4_key = StringField(_l("SM4 key (HJ 212-2025, optional)"), validators=[
        Optional(), Length(max=32, message=_l("The SM4 key has 32 hexadecimal digits."))])


class RotateKeyForm(FlaskForm):
    sm4_key = StringField(_l("New SM4 key (optional)"), validators=[
        Optional(), Length(max=32, message=_l("The SM4 key has 32 hexadecimal digits."))])


class ExplainForm(FlaskForm):
    cause = TextAreaField(_l("Cause of the exceedance"), validators=[
        DataRequired(message=_l("Describe the cause of the exceedance.")), Length(max=4000)])
    measures = TextAreaField(_l("Measures taken"), validators=[
        DataRequired(message=_l("Describe the measures taken.")), Length(max=4000)])
    reported_on = DateField(_l("Date reported to the bureau"), validators=[
        DataRequired(message=_l("Enter the date as YYYY-MM-DD."))])


class CloseForm(FlaskForm):
    """Carries only the CSRF token for the close button."""


class ManualResultForm(FlaskForm):
    outlet = SelectField(_l("Outlet and pollutant"), validators=[DataRequired(message=_l("Choose the outlet and pollutant."))])
    sampled_at = DateTimeLocalField(_l("Sampled at (China time)"), format="%Y-%m-%dT%H:%M", validators=[
        DataRequired(message=_l("Enter the sampling date and time."))])
    value = DecimalField(_l("Result"), places=None, validators=[InputRequired(message=_l("Enter the measured value as a number."))])
    completed_on = DateField(_l("Monitoring completed on"), validators=[
        DataRequired(message=_l("Enter the date the analysis was completed (YYYY-MM-DD)."))])
    lab_name = StringField(_l("Laboratory"), validators=[Optional(), Length(max=100)])
    method = StringField(_l("Method standard"), validators=[Optional(), Length(max=64)])
    # 工况 at sampling (生态环境监测条例 Art. 24); the range is checked by conditions.parse_load.
    production_load = StringField(_l("Production load at sampling, per cent of capacity"), validators=[
        DataRequired(message=_l("Enter the production load at sampling, in per cent of capacity (0 to 150).")),
        Length(max=12)])
    facility_status = SelectField(_l("Treatment facilities at sampling"), choices=[
        SelectChoice("", "—"), SelectChoice("running", _l("running normally")),
        SelectChoice("stopped", _l("stopped")), SelectChoice("abnormal", _l("abnormal"))], validators=[
        DataRequired(message=_l("Choose the state of the treatment facilities at sampling."))])


class UploadForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[DataRequired(message=_l("Choose a CSV or XLSX file."))])


class CommitForm(FlaskForm):
    token = StringField(validators=[DataRequired()])


class PlanItemForm(FlaskForm):
    """One line of the monitoring plan; numbers are strings here and checked by plan.validate_item."""

    item_id = HiddenField()
    outlet_id = SelectField(_l("Outlet"), validators=[DataRequired(message=_l("Choose one of your outlets."))])
    pollutant_code = SelectField(_l("Pollutant"), validators=[
        DataRequired(message=_l("Choose a pollutant from the list."))])
    mode = SelectField(_l("Monitoring mode"), choices=[SelectChoice("manual", _l("manual (laboratory)")),
                                                       SelectChoice("auto", _l("automatic (online)"))])
    frequency = SelectField(_l("Frequency"), choices=[
        SelectChoice("continuous", _l("continuous")), SelectChoice("daily", _l("daily")),
        SelectChoice("weekly", _l("weekly")), SelectChoice("monthly", _l("monthly")),
        SelectChoice("quarterly", _l("quarterly")), SelectChoice("half_yearly", _l("half-yearly")),
        SelectChoice("yearly", _l("yearly"))])
    limit_value = StringField(_l("Limit value"), validators=[Optional(), Length(max=20)])
    limit_min = StringField(_l("Range minimum"), validators=[Optional(), Length(max=20)])
    limit_max = StringField(_l("Range maximum"), validators=[Optional(), Length(max=20)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=16)])
    averaging = SelectField(_l("Averaging time"), choices=[
        SelectChoice("hourly", _l("hourly mean")), SelectChoice("daily", _l("daily mean")),
        SelectChoice("instant", _l("instantaneous value"))])
    reference_o2 = StringField(_l("Reference oxygen, per cent"), validators=[Optional(), Length(max=8)])
    standard_code = StringField(_l("Emission standard"), validators=[Optional(), Length(max=64)])
    method = StringField(_l("Method standard"), validators=[Optional(), Length(max=64)])


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Note to the enterprise"), validators=[Optional(), Length(max=4000)])


class LabReportForm(FlaskForm):
    report = FileField(_l("Laboratory report (PDF)"), validators=[DataRequired(message=_l("Choose a PDF file."))])
