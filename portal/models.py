"""Imports every domain's models so Alembic autogenerate and tests see the whole metadata."""
# ruff: noqa: F401
from portal.audit.models import AuditChainHead, AuditRecord, AuditSeal
from portal.auth.models import EnterpriseBinding, User
from portal.complaints.models import Complaint, ComplaintAttachment, ComplaintEvent, ComplaintNote, ComplaintTransfer
from portal.credit.draw_models import Inspection, Inspector
from portal.credit.models import (
    CreditListEntry,
    CreditScheme,
    CreditSchemeVersion,
    CreditStanding,
    EvaluationResult,
    EvaluationRun,
    Evidence,
    EvidenceAttachment,
    GradeChange,
    InspectionDraw,
    InspectorConflict,
    JurisdictionScheme,
    LedgerEntry,
    Objection,
    RepairApplication,
)
from portal.monitoring.pack_models import MinutePack
from portal.dataerrors.models import DataErrorEvent, DataErrorReport
from portal.disclosures.models import (
    AnnualDeadline,
    AnnualReport,
    Art8Event,
    DisclosureList,
    DisclosureListEntry,
    ListReport,
    Obligation,
    Review,
    TemporaryReport,
    WorkReport,
)
from portal.envcode.models import EnvCode, EnvCodeChange
from portal.enterprises.models import ChangeProposal, Enterprise, KeyUnitYear, Outlet, OutletLimit, Permit
from portal.integrity.models import (DeviceChannel, DeviceMaintainer, IntegrityFlag, IntegrityFlagEvent, IntegrityWatermark, LabSample, LabScope, SupervisoryResult, TransmissionAnomalyReport)  # noqa: E501
from portal.jobs.models import JobRun
from portal.mail.models import OutboxMessage
from portal.monitoring.models import (
    Device,
    ExceedanceIncident,
    ManualSubmission,
    MonitoringFinding,
    MonitoringRollup,
    MonitoringValue,
    ReceivedPacket,
)
from portal.opendata.models import Subscription
from portal.opendays.models import OpenDay, OpenDayRegistration
from portal.reference.models import Industry, Pollutant, Region
from portal.rewards.models import RewardCase, RewardTable
from portal.servicebodies.models import (ServiceBody, ServiceBodyEvidence, ServiceBodySchemeVersion,
                                         ServiceEngagement)
from portal.permits.models import ExecutionReport, PermitShutdown, ReportDeadline
from portal.search.models import DataChange
from portal.workdays.models import CalendarOverride, CalendarYear
from portal.monitoring.conditions import SamplingCondition  # noqa: F401  (Art. 24 工况)
