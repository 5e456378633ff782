"""The annual report's section catalogue (DOMAIN §1.5 blocks with their fields, §1.6 extras) and the temporary
report's fields per trigger (§1.7): data only, read by rules.py, the forms and the templates."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from flask_babel import lazy_gettext as _l

from portal.disclosures.models import Trigger

# Names of the 环境监管重点单位 categories as the report states them (DOMAIN §1.2); the report is a Chinese document.
KEY_UNIT_NAMES = {"water": "水环境重点排污单位", "air": "大气环境重点排污单位", "groundwater": "地下水污染防治重点排污单位",
                  "noise": "噪声重点排污单位", "soil": "土壤污染重点监管单位", "risk": "环境风险重点管控单位"}

# --- sections --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    kind: str = "text"  # text | textarea | number | range (a number or "low-high", e.g. pH 6-9) | date | bool | ...
    unit: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    max_value: Decimal | None = None


@dataclass(frozen=True)
class Table:
    name: str
    label: Any
    columns: tuple[Field, ...]
    key: tuple[str, ...] = ()  # the columns that identify a row to a reader (a correction names them); default first

    @property
    def key_columns(self) -> tuple[str, ...]:
        return self.key or (self.columns[0].name,)


@dataclass(frozen=True)
class Section:
    code: str
    title: Any
    fields: tuple[Field, ...] = ()
    tables: tuple[Table, ...] = ()
    may_be_empty: bool = True  # Art. 16: "未产生" may be declared with a reason
    only_for: str = ""  # "" every enterprise; "financing": listed companies and bond issuers (Art. 15)

    def applies(self, flags: Mapping[str, bool]) -> bool:
        return not self.only_for or bool(flags.get(self.only_for))


F = Field
SECTIONS: tuple[Section, ...] = (
    Section("summary", _l("Key environmental information summary"), (
        F("summary", _l("Summary of the year (licences, main emissions against permitted amounts, violations, "
                        "incidents, carbon)"), "textarea", required=True),
        F("idle_periods", _l("Idle, shut-down or relocation periods (with “no emissions” for them)"), "textarea"),
    ), may_be_empty=False),
    Section("basic", _l("Basic information"), (
        F("name", _l("Enterprise name"), required=True),
        F("uscc", _l("Unified social credit code"), "uscc", required=True),
        F("legal_rep", _l("Legal representative"), required=True),
        F("production_address", _l("Production and operating address"), required=True),
        F("contact_person", _l("Contact person"), required=True),
        F("contact_phone", _l("Contact telephone"), required=True),
        F("industry", _l("Industry (national economic classification)"), required=True),
        F("main_products", _l("Main business, products and scale"), "textarea", required=True),
        F("env_department", _l("Environmental protection department")),
        F("env_manager", _l("Person in charge of environmental work")),
        F("key_unit_types", _l("Key unit types this year")),
    ), may_be_empty=False),
    Section("management", _l("Environmental management information"), (
        F("env_tax_yuan", _l("Environmental protection tax paid"), "number", unit="元"),
        F("insured", _l("Environmental pollution liability insurance"), "bool"),
        F("insurer", _l("Insurer and policy period")),
        F("insurance_limit_yuan", _l("Indemnity limit of the insurance"), "number", unit="元"),
        F("credit_grade", _l("Environmental credit grade received")),
        F("credit_authority", _l("Evaluating authority and year")),
    ), (
        Table("permits", _l("Pollutant discharge permits"), (
            F("permit_no", _l("Permit number"), "permit_no", required=True),
            F("management_class", _l("Management class")),
            F("valid_from", _l("Valid from"), "date"),
            F("valid_to", _l("Valid to"), "date"),
        ), key=("permit_no",)),
        Table("eia", _l("EIA approvals and completion acceptance"), (
            F("project", _l("Project"), required=True),
            F("approval_no", _l("Approval document number"), required=True),
            F("approval_date", _l("Approval date"), "date"),
        ), key=("project", "approval_no")),
    )),
    Section("pollution", _l("Pollutant generation, treatment and emission"), (
        F("hazardous_waste_total_t", _l("Hazardous waste generated in total"), "number", unit="t"),
        F("monitoring_plan", _l("Self-monitoring plan (where it is published)")),
        F("monitoring_compliance_pct", _l("Self-monitoring compliance rate"), "number", unit="%",
          max_value=Decimal(100)),
    ), (
        Table("facilities", _l("Pollution treatment facilities"), (
            F("code", _l("Facility code"), required=True),
            F("name", _l("Facility name")),
            F("process", _l("Treatment process")),
            F("status", _l("Operating status")),
        )),
        Table("emissions", _l("Emissions by outlet and pollutant"), (
            F("outlet_code", _l("Outlet"), required=True),
            F("pollutant", _l("Pollutant"), required=True),
            F("unit", _l("Concentration unit"), required=True),
            F("standard", _l("Standard")),
            F("limit", _l("Limit"), "range"),
            F("avg_conc", _l("Mean concentration (a range for pH)"), "range"),
            F("max_conc", _l("Maximum concentration"), "number"),
            F("annual_t", _l("Annual emission"), "number", unit="t"),
            F("permitted_t", _l("Permitted annual emission"), "number", unit="t"),
            F("exceedances", _l("Exceedance count"), "number"),
        ), key=("outlet_code", "pollutant")),
        Table("waste", _l("Industrial solid and hazardous waste"), (
            F("name", _l("Waste"), required=True),
            F("hw_code", _l("Hazardous waste code (HW)")),
            F("generated_t", _l("Generated"), "number", unit="t"),
            F("stored_t", _l("Stored"), "number", unit="t"),
            F("utilised_t", _l("Utilised"), "number", unit="t"),
            F("disposed_t", _l("Disposed"), "number", unit="t"),
            F("receiver", _l("Receiving unit")),
        ), key=("name", "hw_code")),
        Table("toxic", _l("Toxic and hazardous substances emitted"), (
            F("name", _l("Substance"), required=True),
            F("register", _l("List it is on"), "choice", choices=("有毒有害大气污染物名录", "有毒有害水污染物名录",
                                                                  "重点管控新污染物清单", "其他")),
            F("outlet_code", _l("Outlet")),
            F("annual_kg", _l("Quantity emitted"), "number", unit="kg"),
            F("measures", _l("Control measures")),
        ), key=("name", "outlet_code")),
    )),
    Section("carbon", _l("Carbon emission information"), (
        F("co2_t", _l("CO₂ emissions this year"), "number", unit="t", required=True),
        F("co2_prev_t", _l("CO₂ emissions the previous year"), "number", unit="t"),
        F("allowance_surrendered", _l("Allowances surrendered"), "bool"),
        F("accounting_method", _l("Emission facilities and accounting method"), "textarea"),
    )),
    Section("emergency", _l("Environmental emergency information"), (
        F("plan_filed", _l("Emergency plan filed"), "bool", required=True),
        F("filing_no", _l("Filing number and date")),
        F("risk_level", _l("Environmental risk level"), "choice", choices=("一般", "较大", "重大")),
        F("weather_grade", _l("Heavy-pollution-weather performance grade"), "choice",
          choices=("A", "B", "C", "D", "引领性", "非绩效分级")),
        F("incidents", _l("Environmental incidents during the year"), "textarea"),
    )),
    Section("violations", _l("Environmental violations"), (), (
        Table("penalties", _l("Administrative penalties"), (
            F("decision_no", _l("Decision number"), required=True),
            F("decided_on", _l("Decision date"), "date", required=True),
            F("authority", _l("Authority")),
            F("facts", _l("Violation and legal basis")),
            F("amount_yuan", _l("Fine"), "number", unit="元"),
            F("rectified", _l("Rectification")),
        )),
        Table("criminal", _l("Criminal cases"), (
            F("case_no", _l("Case number"), required=True),
            F("court", _l("Court")),
            F("judgment", _l("Judgment summary")),
            F("decided_on", _l("Judgment date"), "date"),
        ), key=("case_no",)),
        Table("detentions", _l("Administrative detentions of responsible persons"), (
            F("position", _l("Position of the person (no personal ID)"), required=True),
            F("case", _l("Case")),
            F("decided_on", _l("Decision date"), "date"),
        ), key=("position", "decided_on")),
    )),
    Section("temporary", _l("Temporary reports of the year"), (), (
        Table("reports", _l("Temporary reports published this year"), (
            F("trigger", _l("Event"), required=True),
            F("legal_doc_no", _l("Legal document number")),
            F("published_on", _l("Published on"), "date"),
        ), key=("trigger", "legal_doc_no")),
    )),
    Section("cleaner_production", _l("Mandatory cleaner-production audit"), (
        F("reason", _l("Reason for the mandatory audit"), "textarea", required=True),
        F("result", _l("Implementation, assessment and acceptance results"), "textarea", required=True),
    )),
    Section("financing", _l("Financing and climate information (listed companies and bond issuers)"), (
        F("climate_info", _l("Climate-change response and ecological protection of funded projects"), "textarea"),
    ), (
        Table("financing", _l("Financing during the year"), (
            F("form", _l("Financing form"), required=True),
            F("amount_yuan", _l("Amount"), "number", unit="元", required=True),
            F("use", _l("Use of funds")),
        )),
    ), only_for="financing"),
    Section("statement", _l("Statement of the person in charge of environmental work"), (
        F("manager_name", _l("Name of the person in charge of environmental work"), required=True),
        F("manager_position", _l("Position")),
        F("statement", _l("Statement (that the environmental information in this report is true, accurate and "
                          "complete)"), "textarea", required=True),
    ), may_be_empty=False),
    Section("other", _l("Other environmental information required by law"), (
        F("other_info", _l("Other information"), "textarea", required=True),
    )),
)
SECTION_BY_CODE = {s.code: s for s in SECTIONS}

TRIGGER_FIELDS: dict[Trigger, tuple[Field, ...]] = {
    Trigger.PERMIT_CHANGE: (F("permit_type", _l("Permit type"), required=True),
                            F("permit_no", _l("Permit number"), required=True),
                            F("event", _l("Event"), "choice", required=True, choices=("准予", "变更", "延续", "撤销")),
                            F("decided_on", _l("Decision date"), "date", required=True),
                            F("authority", _l("Authority"), required=True)),
    Trigger.ADMIN_PENALTY: (F("decided_on", _l("Decision date"), "date", required=True),
                            F("authority", _l("Authority"), required=True),
                            F("facts", _l("Violation facts"), "textarea", required=True),
                            F("legal_basis", _l("Legal basis"), required=True),
                            F("penalty_type", _l("Penalty type"), required=True),
                            F("amount_yuan", _l("Fine"), "number", unit="元"),
                            F("rectification", _l("Rectification"), "textarea")),
    Trigger.DETENTION: (F("position", _l("Position of the person (no personal ID)"), required=True),
                        F("case", _l("Case"), "textarea", required=True),
                        F("decided_on", _l("Decision date"), "date", required=True)),
    Trigger.CRIMINAL: (F("case_no", _l("Case number"), required=True), F("court", _l("Court"), required=True),
                       F("judgment", _l("Judgment summary"), "textarea", required=True)),
    Trigger.DAMAGE_COMPENSATION: (F("agreement", _l("Agreement or judgment"), required=True),
                                  F("amount_yuan", _l("Amount"), "number", unit="元"),
                                  F("restoration", _l("Restoration status"), "textarea", required=True)),
    Trigger.EMERGENCY: (F("occurred_at", _l("Time"), required=True), F("place", _l("Place"), required=True),
                        F("pollutants", _l("Pollutants"), required=True),
                        F("impact", _l("Impact"), "textarea", required=True),
                        F("measures", _l("Measures taken"), "textarea", required=True)),
    Trigger.CHANGE: (F("basis", _l("Main basis for the change"), "textarea", required=True),),
}
TRIGGER_LABELS = {
    Trigger.PERMIT_CHANGE: _l("Environmental permit granted, changed, renewed or revoked"),
    Trigger.ADMIN_PENALTY: _l("Administrative penalty"),
    Trigger.DETENTION: _l("Administrative detention of a responsible person"),
    Trigger.CRIMINAL: _l("Criminal liability"),
    Trigger.DAMAGE_COMPENSATION: _l("Ecological damage compensation"),
    Trigger.EMERGENCY: _l("Sudden environmental incident"),
    Trigger.CHANGE: _l("Change to disclosed information"),
}
# Triggers whose report is due TEMPORARY_WORKING_DAYS after the legal document arrives (Art. 17).
DEADLINE_TRIGGERS = frozenset(set(Trigger) - {Trigger.EMERGENCY, Trigger.CHANGE})


def applicable_sections(flags: Mapping[str, bool]) -> list[Section]:
    return [s for s in SECTIONS if s.applies(flags)]


def empty_section() -> dict:
    return {"state": "empty", "reason": "", "data": {}, "prefill": {}, "overrides": {}}
