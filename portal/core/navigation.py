"""Role-based navigation links (only endpoints that exist and that the user may open)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.auth.permissions import Permission, has_permission

NAV = (
    (Permission.ENTERPRISE_PRIVATE_VIEW, "enterprises.my_enterprise", _l("My enterprise")),
    (Permission.REGISTRY_VIEW_JURISDICTION, "enterprises.regulator_index", _l("Registry")),
    (Permission.BINDING_DECIDE, "auth.binding_queue", _l("Binding requests")),
    (Permission.PROPOSAL_DECIDE, "enterprises.proposal_queue", _l("Change proposals")),
    (Permission.COMPLAINT_HANDLE, "complaints_console.queue", _l("Complaints")),
    (Permission.DATAERROR_HANDLE, "dataerrors_console.queue", _l("Data-error reports")),
    (Permission.CREDIT_EVIDENCE_RECORD, "credit.evidence_queue", _l("Credit evidence")),
    (Permission.CREDIT_EVIDENCE_RECORD, "credit_findings.queue", _l("Findings to confirm")),
    (Permission.CREDIT_EVALUATE, "credit.runs", _l("Credit evaluation runs")),
    (Permission.CREDIT_OBJECT, "credit.my_results", _l("My credit evaluations")),
    (Permission.CREDIT_OBJECT, "credit_findings.mine", _l("Findings about my enterprise")),
    (Permission.CREDIT_EVALUATE, "credit_lists.desk", _l("Black and positive lists")),
    (Permission.CREDIT_EVALUATE, "credit_schemes.index", _l("Credit schemes")),
    (Permission.CREDIT_EVALUATE, "credit_repair.desk", _l("Credit repair applications")),
    (Permission.CREDIT_EVALUATE, "credit_draws.index", _l("Random inspection draws")),
    (Permission.DISCLOSURE_EDIT, "disclosures.my_index", _l("Disclosure")),
    (Permission.DISCLOSURE_SUPERVISE, "disclosures.dashboard", _l("Disclosure obligations")),
    (Permission.MONITORING_SUBMIT, "monitoring.my_results", _l("Monitoring results")),
    (Permission.MONITORING_SUBMIT, "monitoring.my_plan", _l("Monitoring plan")),
    (Permission.MONITORING_SUBMIT, "monitoring.my_incidents", _l("Exceedances")),
    (Permission.MONITORING_SUBMIT, "integrity.my_flags", _l("Integrity warnings")),
    (Permission.MONITORING_SUBMIT, "integrity.my_anomalies", _l("Transmission anomalies")),
    (Permission.MONITORING_SUBMIT, "permits.my_reports", _l("Permit execution reports")),
    (Permission.DISCLOSURE_DEADLINES, "permits.deadline_admin", _l("Execution report deadlines")),
    (Permission.OPENDAY_MANAGE, "opendays.my_index", _l("Open days")),
    (Permission.ENTERPRISE_PRIVATE_VIEW, "credit_draws.enterprise_inspections", _l("Inspections of my enterprise")),
    (Permission.MONITORING_SUPERVISE, "monitoring.incidents", _l("Exceedance incidents")),
    (Permission.MONITORING_SUPERVISE, "monitoring.devices", _l("Monitoring devices")),
    (Permission.MONITORING_SUPERVISE, "monitoring.plans", _l("Monitoring plans")),
    (Permission.MONITORING_SUPERVISE, "integrity.queue", _l("Monitoring-data integrity flags")),
    (Permission.MONITORING_SUPERVISE, "integrity.anomaly_queue", _l("Transmission anomaly reports")),
    (Permission.ACCOUNTS_MANAGE, "auth.admin_users", _l("Accounts")),
    (Permission.CALENDAR_MANAGE, "workdays.admin_calendar", _l("Working-day calendar")),
    (Permission.ACCOUNTS_MANAGE, "monitoring.unknown_devices", _l("Devices not registered that tried to send")),
)


@dataclass
class NavItem:
    url: str
    label: str


def nav_items() -> list[NavItem]:
    items = []
    for permission, endpoint, label in NAV:
        if endpoint in current_app.view_functions and has_permission(current_user, permission):
            items.append(NavItem(url_for(endpoint), str(label)))
    return items
