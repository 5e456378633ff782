"""GET /home: the logged-in user's work, by role. Each item is a count and a link to the list that shows exactly
those rows (with the list's own filters and paging); every other page the role may open follows below, so the
header needs one link instead of nineteen."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.auth.models import Role
from portal.auth.permissions import Permission, has_permission
from portal.core.clock import china_today
from portal.core.navigation import nav_items
from portal.db import utcnow
from portal.home import counts

bp = Blueprint("home", __name__)


@dataclass
class Item:
    label: str
    count: int
    url: str
    note: str = ""
    urgent: bool = False


@dataclass
class Section:
    title: str
    items: list[Item] = field(default_factory=list)


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _url(endpoint: str, **args) -> str:
    return url_for(endpoint, **args) if endpoint in current_app.view_functions else ""


def enterprise_sections(enterprise_id: int) -> list[Section]:
    today = china_today()
    d = counts.enterprise_disclosures(enterprise_id, today)
    m = counts.enterprise_monitoring(enterprise_id)
    due_note = _("next due %(day)s", day=d["next_due"].isoformat()) if d["next_due"] else ""
    disclosures = Section(_("Disclosure"), [
        Item(_("Obligations to meet"), d["obligations"], _url("disclosures.my_index") + "#ob-h", due_note),
        Item(_("Obligations past their deadline"), d["overdue"], _url("disclosures.my_index") + "#ob-h",
             urgent=d["overdue"] > 0),
        Item(_("Drafts not yet signed"), d["drafts"], _url("disclosures.my_index")),
    ])
    monitoring = Section(_("Monitoring"), [
        Item(_("Exceedances to explain"), m["incidents"], _url("monitoring.my_incidents"), urgent=m["incidents"] > 0),
        Item(_("Integrity warnings to answer"), m["warnings"], _url("integrity.my_flags"),
             urgent=m["warnings"] > 0),
        Item(_("Device anomalies not yet repaired"), m["anomalies"], _url("integrity.my_anomalies")),
    ])
    credit = Section(_("Credit"), [
        Item(_("Findings waiting for the regulators' decision"), counts.enterprise_findings(enterprise_id),
             _url("credit_findings.mine", status="open")),
    ])
    return [disclosures, monitoring, credit]


def regulator_sections(user) -> list[Section]:
    today = china_today()
    jurisdiction = user.jurisdiction_code
    c = counts.regulator_complaints(user, today)
    cr = counts.regulator_credit(jurisdiction)
    reg = counts.regulator_registry(jurisdiction)
    m = counts.regulator_monitoring(jurisdiction)
    queue = "complaints_console.queue"
    sections = [
        Section(_("Complaints by deadline"), [
            Item(_("Overdue"), c["overdue"], _url(queue, sla="overdue"), urgent=c["overdue"] > 0),
            Item(_("Due within 3 days"), c["due_soon"], _url(queue, sla="due_soon")),
            Item(_("All open cases"), c["open"], _url(queue)),
        ]),
        Section(_("Credit"), [
            Item(_("Evidence awaiting a second regulator"), cr["unconfirmed"],
                 _url("credit.evidence_queue", status="unconfirmed")),
            Item(_("Withdrawals awaiting a second regulator"), cr["withdrawals"],
                 _url("credit.evidence_queue", status="withdrawal")),
            Item(_("Findings nobody has taken up"), cr["detected"], _url("credit_findings.queue", status="detected")),
            Item(_("Findings recorded, to confirm"), cr["recorded"], _url("credit_findings.queue", status="recorded")),
        ]),
        Section(_("Registry"), [
            Item(_("Change proposals"), reg["proposals"], _url("enterprises.proposal_queue")),
            Item(_("Account binding requests"), reg["bindings"], _url("auth.binding_queue")),
        ]),
        Section(_("Monitoring"), [
            Item(_("Monitoring plans to confirm"), m["plans"], _url("monitoring.plans")),
            Item(_("Exceedances not yet explained"), m["incidents_open"], _url("monitoring.incidents", state="open")),
            Item(_("Explained exceedances to close"), m["incidents_explained"],
                 _url("monitoring.incidents", state="explained")),
            Item(_("Integrity flags to look at"), m["flags_open"], _url("integrity.queue", state="open")),
            Item(_("Integrity answers to judge"), m["flags_answered"], _url("integrity.queue", state="answered")),
            Item(_("Device anomalies reported"), m["anomalies_reported"],
                 _url("integrity.anomaly_queue", state="reported")),
            Item(_("Repaired devices to close"), m["anomalies_repaired"],
                 _url("integrity.anomaly_queue", state="repaired")),
            Item(_("Devices registered"), m["devices"], _url("monitoring.devices")),
        ]),
    ]
    if user.role == Role.REGULATOR_LEAD:
        sections.insert(0, Section(_("Approvals waiting for you"), [
            Item(_("Complaint deadline extensions"), c["extensions"], _url(queue, sla="extension"),
                 urgent=c["extensions"] > 0),
            Item(_("Reward proposals"), counts.lead_rewards(jurisdiction), _url("rewards.index")),
        ]))
    return sections


def admin_sections() -> list[Section]:
    from portal.auth.forms import role_label
    from portal.workdays.services import gap_years

    a = counts.admin_accounts(utcnow())
    accounts = Section(_("Accounts"), [
        Item(role_label(role), a["by_role"].get(role.value, 0), _url("auth.admin_users", role=role.value))
        for role in Role])
    accounts.items += [Item(_("Locked after failed logins"), a["locked"], _url("auth.admin_users", state="locked"),
                            urgent=a["locked"] > 0),
                       Item(_("Deactivated"), a["inactive"], _url("auth.admin_users", state="inactive"))]
    gaps = gap_years(china_today())
    calendar = Section(_("Working-day calendar"), [
        Item(_("Years without official holidays (deadlines there are provisional): %(years)s",
               years=", ".join(str(y) for y in gaps)) if gaps else _("Years without official holidays"),
             len(gaps), _url("workdays.admin_calendar", year=gaps[0], month=1) if gaps else
             _url("workdays.admin_calendar"), urgent=bool(gaps))])
    return [accounts, calendar]


def sections_for(user) -> list[Section]:
    if user.role.is_enterprise:
        return enterprise_sections(user.enterprise_id) if user.enterprise_id else []
    if user.role.is_regulator:
        return regulator_sections(user)
    if has_permission(user, Permission.ACCOUNTS_MANAGE):
        return admin_sections()
    return []


@bp.get("/home")
@login_required
def index():
    sections = sections_for(current_user)
    shown = {item.url.split("?")[0].split("#")[0] for s in sections for item in s.items}
    others = [n for n in nav_items() if n.url not in shown]
    binding_url = _url("auth.binding_request") if current_user.role.is_enterprise and not current_user.enterprise_id \
        else ""
    return render_template("home/index.html", sections=sections, others=others, binding_url=binding_url)
