"""Registry forms: shape only (presence, length). The registry rules run in services.py, which reports every field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.enterprises.models import Averaging, KeyUnitType, OutletType, PermitClass, ProposalStatus

PERMIT_CLASS_LABELS = {PermitClass.KEY: _l("Key management"), PermitClass.SIMPLIFIED: _l("Simplified management"),
                       PermitClass.REGISTRATION: _l("Registration management")}
OUTLET_TYPE_LABELS = {OutletType.MAIN: _l("Main outlet"), OutletType.GENERAL: _l("General outlet"),
                      OutletType.FUGITIVE: _l("Fugitive emissions"), OutletType.BOUNDARY: _l("Site boundary")}
AVERAGING_LABELS = {Averaging.HOURLY: _l("Hourly average"), Averaging.DAILY: _l("Daily average"),
                    Averaging.INSTANT: _l("Instantaneous")}
KEY_UNIT_LABELS = {KeyUnitType.WATER: _l("Water environment"), KeyUnitType.AIR: _l("Air environment"),
                   KeyUnitType.GROUNDWATER: _l("Groundwater"), KeyUnitType.NOISE: _l("Noise"),
                   KeyUnitType.SOIL: _l("Soil pollution"), KeyUnitType.RISK: _l("Environmental risk control")}
STATUS_LABELS = {ProposalStatus.PENDING: _l("pending"), ProposalStatus.APPROVED: _l("approved"),
                 ProposalStatus.REJECTED: _l("rejected")}
TARGET_LABELS = {"enterprise": _l("Enterprise data"), "permit": _l("Permit"), "outlet": _l("Outlet"),
                 "outlet_limit": _l("Pollutant limit")}
FIELD_LABELS = {
    "uscc": _l("Unified social credit code"), "name": _l("Name"), "former_names": _l("Former names"),
    "legal_rep": _l("Legal representative"), "address": _l("Registered address"),
    "production_address": _l("Production address"), "region_code": _l("Region"), "industry_code": _l("Industry code"),
    "latitude": _l("Latitude"), "longitude": _l("Longitude"), "contact_phone": _l("Contact phone"),
    "is_listed": _l("Listed company"), "stock_code": _l("Stock code"), "is_bond_issuer": _l("Bond issuer"),
    "permit_no": _l("Permit number"), "management_class": _l("Management class"), "valid_from": _l("Valid from"),
    "valid_to": _l("Valid to"), "issued_by": _l("Issued by"), "code": _l("Outlet code"),
    "outlet_type": _l("Outlet type"),
    "permit_id": _l("Permit"), "destination": _l("Discharge destination"), "outlet_id": _l("Outlet"),
    "pollutant_code": _l("Pollutant"), "limit_value": _l("Limit value"), "limit_min": _l("Range minimum"),
    "limit_max": _l("Range maximum"), "unit": _l("Unit"), "averaging": _l("Averaging"),
    "reference_o2": _l("Reference O₂ (%)"), "standard_code": _l("Standard"), "year": _l("Year"),
    "unit_types": _l("Key-unit types"), "key_unit_types": _l("Key-unit types"), "reason": _l("Reason"),
    "note": _l("Note"), "status": _l("Status"), "decision_note": _l("Decision note"), "enterprise_id": _l("Enterprise"),
}


def template_labels() -> dict:
    """Label tables the registry and audit templates use to show stored enum values and field names."""
    return {"permit_class": PERMIT_CLASS_LABELS, "outlet_type": OUTLET_TYPE_LABELS, "averaging": AVERAGING_LABELS,
            "key_unit": KEY_UNIT_LABELS, "status": STATUS_LABELS, "target": TARGET_LABELS, "field": FIELD_LABELS}


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(k.value, v) for k, v in labels.items()]


class EnterpriseForm(FlaskForm):
    uscc = StringField(_l("Unified social credit code"), [InputRequired(), Length(max=40)])
    name = StringField(_l("Name"), [InputRequired(), Length(max=200)])
    former_names = TextAreaField(_l("Former names"), [Optional(), Length(max=2000)])
    legal_rep = StringField(_l("Legal representative"), [Length(max=64)])
    address = StringField(_l("Registered address"), [Length(max=300)])
    production_address = StringField(_l("Production address"), [Length(max=300)])
    region_code = SelectField(_l("Region"), [InputRequired()], choices=[])
    industry_code = StringField(_l("Industry code"), [InputRequired(), Length(max=5)])
    latitude = StringField(_l("Latitude"), [Length(max=20)])
    longitude = StringField(_l("Longitude"), [Length(max=20)])
    contact_phone = StringField(_l("Contact phone"), [Length(max=32)])
    is_listed = BooleanField(_l("Listed company"))
    stock_code = StringField(_l("Stock code"), [Length(max=16)])
    is_bond_issuer = BooleanField(_l("Bond issuer"))


class PermitForm(FlaskForm):
    permit_no = StringField(_l("Permit number"), [InputRequired(), Length(max=40)])
    management_class = SelectField(_l("Management class"), choices=_choices(PERMIT_CLASS_LABELS))
    valid_from = StringField(_l("Valid from"), [InputRequired(), Length(max=10)], render_kw={"type": "date"})
    valid_to = StringField(_l("Valid to"), [InputRequired(), Length(max=10)], render_kw={"type": "date"})
    issued_by = StringField(_l("Issued by"), [Length(max=100)])


class OutletForm(FlaskForm):
    code = StringField(_l("Outlet code"), [InputRequired(), Length(max=8)])
    name = StringField(_l("Name"), [InputRequired(), Length(max=100)])
    outlet_type = SelectField(_l("Outlet type"), choices=_choices(OUTLET_TYPE_LABELS))
    permit_id = SelectField(_l("Permit"), choices=[])
    latitude = StringField(_l("Latitude"), [Length(max=20)])
    longitude = StringField(_l("Longitude"), [Length(max=20)])
    destination = StringField(_l("Discharge destination"), [Length(max=200)])


class LimitForm(FlaskForm):
    outlet_id = SelectField(_l("Outlet"), choices=[])
    pollutant_code = SelectField(_l("Pollutant"), choices=[])
    limit_value = StringField(_l("Limit value"), [Length(max=20)], render_kw={"inputmode": "decimal"})
    limit_min = StringField(_l("Range minimum"), [Length(max=20)], render_kw={"inputmode": "decimal"})
    limit_max = StringField(_l("Range maximum"), [Length(max=20)], render_kw={"inputmode": "decimal"})
    unit = StringField(_l("Unit"), [Length(max=16)])
    averaging = SelectField(_l("Averaging"), choices=_choices(AVERAGING_LABELS))
    reference_o2 = StringField(_l("Reference O₂ (%)"), [Length(max=10)], render_kw={"inputmode": "decimal"})
    standard_code = StringField(_l("Standard"), [Length(max=64)])


class KeyUnitForm(FlaskForm):
    year = StringField(_l("Year"), [InputRequired(), Length(max=4)], render_kw={"inputmode": "numeric"})
    unit_types = SelectMultipleField(_l("Key-unit types"), choices=_choices(KEY_UNIT_LABELS),
                                     widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class ReasonMixin:
    reason = TextAreaField(_l("Reason for the change"), [InputRequired(), Length(max=2000)])


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note"), [Length(max=2000)])


class ConfirmForm(FlaskForm):
    """A bare form: only the CSRF token (delete buttons)."""


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or credit code"), [Optional(), Length(max=100)])
    region = SelectField(_l("Region"), choices=[], validate_choice=False)


def proposal_form(base: type[FlaskForm]) -> type[FlaskForm]:
    """The same fields as a direct edit, plus the reason the regulator will read."""
    return type(f"Proposed{base.__name__}", (base, ReasonMixin), {})  # type: ignore[return-value]


FORM_FIELDS = {"enterprise": EnterpriseForm, "permit": PermitForm, "outlet": OutletForm, "outlet_limit": LimitForm}


def form_values(form: FlaskForm, exclude: tuple[str, ...] = ("csrf_token", "reason", "submit")) -> dict:
    return {name: field.data for name, field in form._fields.items() if name not in exclude}
