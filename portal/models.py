"""Imports every domain's models so Alembic autogenerate and tests see the whole metadata."""
from portal.audit.models import AuditHead, AuditRecord  # noqa: F401
from portal.auth.models import EnterpriseBinding, User  # noqa: F401
from portal.enterprises.models import (  # noqa: F401
    ChangeProposal,
    Enterprise,
    KeyUnitYear,
    Outlet,
    OutletLimit,
    Permit,
)
from portal.reference.models import Industry, Pollutant, Region  # noqa: F401
from portal.jobs.models import JobRun  # noqa: F401
from portal.mail.models import OutboxMessage  # noqa: F401
from portal.workdays.models import CalendarOverride  # noqa: F401
from portal.credit.models import Evidence  # noqa: F401
from portal.credit.models import CreditScheme, CreditSchemeVersion, CreditStanding, GradeChange, JurisdictionScheme, LedgerEntry  # noqa: F401,E501
from portal.credit.models import CreditListEntry, EvaluationResult, EvaluationRun, Objection  # noqa: F401
from portal.credit.models import InspectionDraw, RepairApplication  # noqa: F401
from portal.monitoring.models import Device, ExceedanceIncident, ManualSubmission, MonitoringFinding, MonitoringRollup, MonitoringValue, ReceivedPacket  # noqa: F401,E501
from portal.disclosures.models import AnnualReport, DisclosureList, DisclosureListEntry, Obligation, Review, TemporaryReport  # noqa: F401,E501
from portal.complaints.models import Complaint, ComplaintAttachment, ComplaintEvent  # noqa: F401
