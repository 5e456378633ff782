"""Credit forms (shape only); the evidence rules run in services/rules and report every field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.credit.models import (EvidenceKind, EvidenceSource, ListKind, ListStatus, ObjectionStatus, RepairStatus,
                                  RunStatus, SchemeStatus)
from portal.credit.rules import INCIDENT_LEVELS, PENALTY_TYPES, REGULATOR_KINDS

KIND_LABELS = {
    EvidenceKind.PENALTY: _l("Administrative penalty"),
    EvidenceKind.DAILY_PENALTY: _l("Daily continuous penalty"),
    EvidenceKind.PRODUCTION_LIMIT: _l("Order to limit production"),
    EvidenceKind.PRODUCTION_STOP: _l("Order to stop production for rectification"),
    EvidenceKind.PERMIT_REVOKED: _l("Permit revoked"),
    EvidenceKind.DETENTION: _l("Administrative detention"),
    EvidenceKind.CRIMINAL: _l("Criminal liability"),
    EvidenceKind.SUPERVISED_LISTING: _l("Listed supervision (挂牌督办)"),
    EvidenceKind.INSPECTION_FINDING: _l("Inspection finding"),
    EvidenceKind.INCIDENT: _l("Environmental incident"),
    EvidenceKind.DISCLOSURE_LATE: _l("Late disclosure"),
    EvidenceKind.DISCLOSURE_MISSING: _l("Missing disclosure"),
    EvidenceKind.DISCLOSURE_DEFECTIVE: _l("Defective disclosure"),
    EvidenceKind.MONITORING_EXCEEDANCE: _l("Monitoring exceedance"),
    EvidenceKind.MONITORING_GAP: _l("Monitoring data gap"),
    EvidenceKind.MONITORING_LATE: _l("Monitoring data published late"),
    EvidenceKind.COMPLAINT_SUBSTANTIATED: _l("Substantiated complaint"),
    EvidenceKind.COMMENDATION: _l("Commendation"),
    EvidenceKind.OPEN_DAY: _l("Open day held"),
    EvidenceKind.PERMIT_REPORT_LATE: _l("Permit execution report late"),
}
SOURCE_LABELS = {EvidenceSource.REGULATOR: _l("Recorded by a regulator"), EvidenceSource.DISCLOSURE: _l("Disclosure system"),
                 EvidenceSource.MONITORING: _l("Self-monitoring"), EvidenceSource.COMPLAINT: _l("Complaints"),
                 EvidenceSource.ENTERPRISE: _l("Declared by the enterprise"),
                 EvidenceSource.PERMIT: _l("Discharge permit duties")}
PENALTY_TYPE_LABELS = {"warning": _l("Warning"), "fine": _l("Fine"), "confiscation": _l("Confiscation"),
                       "order_to_correct": _l("Order to correct"), "seal_seizure": _l("Seal or seizure"),
                       "other": _l("Other")}
INCIDENT_LEVEL_LABELS = {"general": _l("General (一般)"), "larger": _l("Larger (较大)"), "major": _l("Major (重大)"),
                         "especially_major": _l("Especially major (特别重大)")}
RUN_STATUS_LABELS = {RunStatus.COMPUTED: _l("proposed, not yet public"),
                     RunStatus.PUBLIC_NOTICE: _l("on public notice"),
                     RunStatus.FINAL: _l("final, published")}
OBJECTION_STATUS_LABELS = {ObjectionStatus.OPEN: _l("under review"), ObjectionStatus.SUSTAINED: _l("sustained"),
                           ObjectionStatus.DISMISSED: _l("dismissed")}
SCHEME_STATUS_LABELS = {SchemeStatus.DRAFT: _l("draft"), SchemeStatus.ACTIVE: _l("active"),
                        SchemeStatus.RETIRED: _l("retired")}
FIELD_LABELS = {
    "kind": _l("Kind"), "occurred_on": _l("Decision date"), "title": _l("Summary"),
    "document_no": _l("Document number"), "authority": _l("Issuing authority"), "amount_yuan": _l("Amount (yuan)"),
    "penalty_type": _l("Penalty type"), "legal_basis": _l("Legal basis"), "incident_level": _l("Incident level"),
    "findings": _l("Findings"), "is_public": _l("Details may be published"), "reason": _l("Reason"),
    "action": _l("Decision"), "ids": _l("Findings"), "start": _l("From"), "end": _l("To"), "uscc": _l("Credit code"),
    "status": _l("Status"), "page": _l("Page"),
}

assert set(PENALTY_TYPE_LABELS) == set(PENALTY_TYPES) and set(INCIDENT_LEVEL_LABELS) == set(INCIDENT_LEVELS)


def _with_blank(labels: dict) -> list[SelectChoice]:
    return [SelectChoice("", "—")] + [SelectChoice(k, v) for k, v in labels.items()]


class EvidenceForm(FlaskForm):
    kind = SelectField(_l("Kind"), [InputRequired()],
                       choices=[SelectChoice(k.value, KIND_LABELS[k]) for k in REGULATOR_KINDS])
    occurred_on = DateField(_l("Decision date"), [InputRequired()])
    document_no = StringField(_l("Document number"), [InputRequired(), Length(max=100)])
    authority = StringField(_l("Issuing authority"), [InputRequired(), Length(max=100)])
    title = StringField(_l("Summary"), [Optional(), Length(max=300)])
    penalty_type = SelectField(_l("Penalty type"), choices=_with_blank(PENALTY_TYPE_LABELS), default="")
    amount_yuan = IntegerField(_l("Amount (yuan)"), [Optional(), NumberRange(min=0, max=10**12)])
    legal_basis = StringField(_l("Legal basis"), [Optional(), Length(max=300)])
    incident_level = SelectField(_l("Incident level"), choices=_with_blank(INCIDENT_LEVEL_LABELS), default="")
    findings = TextAreaField(_l("Findings"), [Optional(), Length(max=4000)])
    is_public = BooleanField(_l("Details may be published"), default=True)


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Reason"), [InputRequired(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """CSRF only."""


class EvidenceBulkForm(FlaskForm):
    """Bulk decision on the selected evidence (the ids come as repeated `ids` fields)."""

    action = SelectField(_l("Decision"), [InputRequired()],
                         choices=[SelectChoice("confirm", _l("Confirm the selected records")),
                                  SelectChoice("withdraw", _l("Withdraw the selected records (or ask for it)"))])
    reason = StringField(_l("Reason (needed to withdraw)"), [Optional(), Length(max=500)])


REFUSAL_LABELS = {
    "jurisdiction": _l("This enterprise is outside your jurisdiction."),
    "withdrawn": _l("Already withdrawn."),
    "verified": _l("Already confirmed."),
    "own_record": _l("You recorded this; another regulator must confirm it."),
    "own_withdrawal": _l("You asked for this withdrawal; another regulator must agree to it."),
}


class FindingsBulkForm(FlaskForm):
    """Bulk decision on the selected findings (the ids come as repeated `ids` fields)."""

    action = SelectField(_l("Decision"), [InputRequired()],
                         choices=[SelectChoice("confirm", _l("Confirm the selected findings")),
                                  SelectChoice("dismiss", _l("Dismiss the selected findings"))])
    reason = StringField(_l("Reason"), [InputRequired(), Length(max=500)])


def finding_labels() -> dict:
    from portal.credit.findings import Status

    return {"status": {Status.DETECTED: _l("detected, awaiting a regulator"),
                       Status.RECORDED: _l("recorded, awaiting a second regulator"),
                       Status.CONFIRMED: _l("confirmed, counts"), Status.DISMISSED: _l("dismissed"),
                       Status.WITHDRAWN: _l("withdrawn")},
            "filter": {"open": _l("open (awaiting confirmation)"), "": _l("all")}}


def template_labels() -> dict:
    return {"kind": KIND_LABELS, "source": SOURCE_LABELS, "penalty_type": PENALTY_TYPE_LABELS,
            "incident_level": INCIDENT_LEVEL_LABELS, "field": FIELD_LABELS, "run_status": RUN_STATUS_LABELS,
            "objection_status": OBJECTION_STATUS_LABELS, "list_kind": LIST_KIND_LABELS,
            "list_status": LIST_STATUS_LABELS, "scheme_status": SCHEME_STATUS_LABELS,
            "repair_status": REPAIR_STATUS_LABELS, "repair_action": REPAIR_ACTION_LABELS}


class RunForm(FlaskForm):
    year = IntegerField(_l("Year evaluated"), [InputRequired(), NumberRange(min=2014, max=2100)])
    notice_days = IntegerField(_l("Public notice (days)"), [InputRequired(), NumberRange(min=7, max=30)], default=15)


class NoticeForm(FlaskForm):
    notice_days = IntegerField(_l("Public notice (days)"), [InputRequired(), NumberRange(min=7, max=30)], default=15)


class ObjectionForm(FlaskForm):
    grounds = TextAreaField(_l("Grounds of the objection"), [InputRequired(), Length(max=4000)])
    supporting_evidence = TextAreaField(_l("Supporting evidence"), [Optional(), Length(max=4000)])


class AnswerForm(FlaskForm):
    decision = SelectField(_l("Decision"), [InputRequired()],
                           choices=[SelectChoice("dismiss", _l("Dismiss: the result stands")),
                                    SelectChoice("sustain", _l("Sustain: recompute the result"))])
    reply = TextAreaField(_l("Written answer"), [InputRequired(), Length(max=4000)])


LIST_KIND_LABELS = {ListKind.BLACK: _l("Black list (serious dishonesty)"),
                    ListKind.WHITE: _l("Positive list (enforcement whitelist)")}
LIST_STATUS_LABELS = {ListStatus.CANDIDATE: _l("candidate"), ListStatus.PRIOR_NOTICE: _l("prior notice sent"),
                      ListStatus.LISTED: _l("listed"), ListStatus.REJECTED: _l("not listed"),
                      ListStatus.REMOVED: _l("removed from the list"), ListStatus.EXPIRED: _l("expired"),
                      ListStatus.REVOKED: _l("revoked")}


class ProposeForm(FlaskForm):
    uscc = StringField(_l("Unified social credit code"), [InputRequired(), Length(max=40)])
    kind = SelectField(_l("List"), [InputRequired()],
                       choices=[SelectChoice(k.value, v) for k, v in LIST_KIND_LABELS.items()])
    reason = TextAreaField(_l("Reason"), [InputRequired(), Length(max=2000)])


class DecideForm(FlaskForm):
    decision = SelectField(_l("Decision"), [InputRequired()],
                           choices=[SelectChoice("list", _l("List the enterprise")),
                                    SelectChoice("reject", _l("Do not list"))])
    note = TextAreaField(_l("Reasons for the decision"), [InputRequired(), Length(max=2000)])


class EndForm(FlaskForm):
    action = SelectField(_l("Action"), [InputRequired()],
                         choices=[SelectChoice("remove", _l("Remove (minimum period reached)")),
                                  SelectChoice("revoke", _l("Revoke (decision annulled)"))])
    reason = TextAreaField(_l("Reason"), [InputRequired(), Length(max=2000)])


class StatementForm(FlaskForm):
    statement = TextAreaField(_l("Your statement"), [InputRequired(), Length(max=4000)])


class SchemeRulesForm(FlaskForm):
    rules = TextAreaField(_l("Rules (JSON)"), [InputRequired(), Length(max=200_000)])


class MappingForm(FlaskForm):
    scheme_id = SelectField(_l("Scheme"), [InputRequired()], choices=[])


REPAIR_STATUS_LABELS = {RepairStatus.APPLIED: _l("applied"), RepairStatus.RETURNED: _l("returned for completion"),
                        RepairStatus.VERIFYING: _l("being verified"),
                        RepairStatus.PUBLIC_NOTICE: _l("on public notice"),
                        RepairStatus.REPAIRED: _l("repaired"), RepairStatus.REJECTED: _l("rejected")}
REPAIR_ACTION_LABELS = {"accept": _l("Accept for verification"), "return": _l("Return: materials incomplete"),
                        "reject": _l("Reject"), "pass": _l("Verified: start the public notice"),
                        "reopen": _l("Valid objection: verify again"), "repair": _l("Grant the repair (lead)")}


class RepairForm(FlaskForm):
    rectification = TextAreaField(_l("What was corrected"), [InputRequired(), Length(max=4000)])
    materials = TextAreaField(_l("Materials"), [Optional(), Length(max=4000)])
    commitment = BooleanField(_l("We make a public credit commitment: the materials are true and we accept "
                                 "liability for any breach."))


class RepairActionForm(FlaskForm):
    action = SelectField(_l("Action"), [InputRequired()],
                         choices=[SelectChoice(k, v) for k, v in REPAIR_ACTION_LABELS.items()])
    note = TextAreaField(_l("Note to the enterprise"), [Optional(), Length(max=2000)])


class DrawForm(FlaskForm):
    year = IntegerField(_l("Year"), [InputRequired(), NumberRange(min=2014, max=2100)])
    quarter = SelectField(_l("Quarter"), [InputRequired()], choices=[SelectChoice(str(q), str(q)) for q in range(1, 5)])


class ConflictForm(FlaskForm):
    inspector = StringField(_l("Inspector (user name)"), [InputRequired(), Length(max=64)])
    uscc = StringField(_l("Unified social credit code"), [InputRequired(), Length(max=40)])
    reason = TextAreaField(_l("Conflict of interest"), [InputRequired(), Length(max=2000)])


class EndConflictForm(FlaskForm):
    reason = StringField(_l("Reason"), [InputRequired(), Length(max=500)])
