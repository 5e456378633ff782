from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, str_enum
from portal.extensions import db


class EvidenceKind(enum.StrEnum):
    """What a piece of credit evidence records (DOMAIN §2.1 information sources, §2.3 deduction items)."""

    PENALTY = "penalty"  # 行政处罚
    DAILY_PENALTY = "daily_penalty"  # 按日连续处罚
    PRODUCTION_LIMIT = "production_limit"  # 限制生产
    PRODUCTION_STOP = "production_stop"  # 停产整治
    PERMIT_REVOKED = "permit_revoked"  # 吊销许可证
    DETENTION = "detention"  # 行政拘留
    CRIMINAL = "criminal"  # 追究刑事责任
    SUPERVISED_LISTING = "supervised_listing"  # 挂牌督办
    INSPECTION_FINDING = "inspection_finding"  # 检查发现问题
    INCIDENT = "incident"  # 突发环境事件
    DISCLOSURE_LATE = "disclosure_late"
    DISCLOSURE_MISSING = "disclosure_missing"
    DISCLOSURE_DEFECTIVE = "disclosure_defective"  # 不符合准则 / 不真实 / 不准确 (regulator finding)
    MONITORING_EXCEEDANCE = "monitoring_exceedance"
    MONITORING_GAP = "monitoring_gap"
    MONITORING_LATE = "monitoring_late"
    COMPLAINT_SUBSTANTIATED = "complaint_substantiated"
    COMMENDATION = "commendation"  # 表彰 / positive evidence
    OPEN_DAY = "open_day"  # 企业开放日 held (opendays); scores only where a scheme rule names this kind
    PERMIT_REPORT_LATE = "permit_report_late"  # 排污许可证执行报告 not filed by its deadline (条例 art. 37)


class EvidenceSource(enum.StrEnum):
    REGULATOR = "regulator"  # recorded by hand by a regulator
    DISCLOSURE = "disclosure"
    MONITORING = "monitoring"
    COMPLAINT = "complaint"
    ENTERPRISE = "enterprise"  # the enterprise's own declaration (open days); a regulator confirms it
    PERMIT = "permit"  # pollutant discharge permit duties (execution reports)


class Evidence(TimestampMixin, db.Model):
    """One fact the credit engine may read. Every capability adds its facts through credit.evidence.add_evidence;
    only verified evidence ever scores (DOMAIN §2.1)."""

    __tablename__ = "evidence"
    __table_args__ = (sa.UniqueConstraint("source_ref", "kind"),
                      sa.Index("ix_evidence_enterprise_date", "enterprise_id", "occurred_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind))
    source: Mapped[EvidenceSource] = mapped_column(str_enum(EvidenceSource, 16))
    # A stable reference to the record that produced it ("disclosure:12", "exceedance:907", "penalty-doc:淮环罚〔2026〕3号"),
    # unique with kind so that re-running a producer never duplicates evidence.
    source_ref: Mapped[str] = mapped_column(sa.String(120))
    occurred_on: Mapped[date] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(300))
    # A system-written title as a message code + parameters, rendered in the reader's language (portal.core.messages);
    # empty for titles people typed.
    message_code: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    message_params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    document_no: Mapped[str] = mapped_column(sa.String(100), default="")
    authority: Mapped[str] = mapped_column(sa.String(100), default="")
    amount_yuan: Mapped[int | None] = mapped_column(sa.BigInteger)
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    is_verified: Mapped[bool] = mapped_column(default=False)
    verified_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column()
    is_public: Mapped[bool] = mapped_column(default=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column()  # revoked decision, repaired, or entered in error
    withdrawn_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # Credit repair granted (DOMAIN §3.1/3.3): stays on record and in the ledger, stops counting from this day,
    # and its details are no longer published.
    repaired_on: Mapped[date | None] = mapped_column()
    # Who recorded it by hand (regulator evidence must be confirmed by someone else, or by a lead).
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Withdrawing confirmed evidence takes two people, like confirming it (DOMAIN §2.6): the first regulator's request
    # waits here until a second regulator of the jurisdiction agrees (credit.evidence.withdraw_evidence).
    withdrawal_requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawal_requested_at: Mapped[datetime | None] = mapped_column()
    withdrawal_request_reason: Mapped[str] = mapped_column(sa.Text, default="")

    enterprise = relationship("Enterprise")
    attachments = relationship("EvidenceAttachment", back_populates="evidence", order_by="EvidenceAttachment.id")


# --- schemes, ledger and standing ---------------------------------------------------------------------------------

class SchemeStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class CreditScheme(TimestampMixin, db.Model):
    """A named credit scheme (national 2013, Jiangsu 12-point, a provincial variant). Its rules live in versions."""

    __tablename__ = "credit_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")

    versions = relationship("CreditSchemeVersion", back_populates="scheme", order_by="CreditSchemeVersion.number")


class CreditSchemeVersion(TimestampMixin, db.Model):
    """One version of a scheme's rules as data (see credit.scoring.SchemeRules for the shape). Only drafts are ever
    edited; an activated version is frozen so that every result can name the rules that produced it."""

    __tablename__ = "credit_scheme_versions"
    __table_args__ = (sa.UniqueConstraint("scheme_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_schemes.id"))
    number: Mapped[int] = mapped_column()
    status: Mapped[SchemeStatus] = mapped_column(str_enum(SchemeStatus, 16), default=SchemeStatus.DRAFT)
    rules: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    activated_at: Mapped[datetime | None] = mapped_column()
    activated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    scheme = relationship("CreditScheme", back_populates="versions")


class JurisdictionScheme(TimestampMixin, db.Model):
    """Which scheme a jurisdiction uses: the longest region-code prefix wins; no match means the national scheme."""

    __tablename__ = "credit_jurisdiction_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_prefix: Mapped[str] = mapped_column(sa.String(6), unique=True)
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_schemes.id"))

    scheme = relationship("CreditScheme")


class LedgerEntry(db.Model):
    """One line of an enterprise's public points ledger: a rule applied to one piece of evidence."""

    __tablename__ = "credit_ledger_entries"
    __table_args__ = (sa.Index("ix_credit_ledger_entries_enterprise", "enterprise_id", "counts_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    evidence_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence.id"))
    scheme_version_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_scheme_versions.id"))
    rule_code: Mapped[str] = mapped_column(sa.String(60))
    rule_label: Mapped[str] = mapped_column(sa.String(200))
    points: Mapped[int] = mapped_column()
    is_veto: Mapped[bool] = mapped_column(default=False)
    counts_from: Mapped[date] = mapped_column()
    expires_on: Mapped[date | None] = mapped_column()

    evidence = relationship("Evidence")


class CreditStanding(db.Model):
    """An enterprise's current standing (credit.standing): one row per *evaluated* enterprise, none for an enterprise
    never evaluated. Maintained whenever its evidence, its annual result or its scheme changes and daily when an
    entry starts or stops counting (next_change_on); search, the 环保码, the CSV and the API read it."""

    __tablename__ = "credit_standings"
    __table_args__ = (sa.Index("ix_credit_standings_grade", "grade"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), unique=True)
    scheme_version_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_scheme_versions.id"))
    score: Mapped[int] = mapped_column()
    grade: Mapped[str] = mapped_column(sa.String(16))
    is_vetoed: Mapped[bool] = mapped_column(default=False)
    as_of: Mapped[date] = mapped_column()
    next_change_on: Mapped[date | None] = mapped_column(index=True)
    computed_at: Mapped[datetime] = mapped_column()
    # "evaluation": the latest final annual result stands; "dynamic": the ledger today (no final result yet, or
    # entries started or stopped counting after the evaluated period). See credit.standing.decide.
    basis: Mapped[str] = mapped_column(sa.String(16), default="dynamic", server_default="dynamic")
    since: Mapped[date | None] = mapped_column()  # the day this grade and score took effect
    result_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credit_evaluation_results.id", ondelete="SET NULL"))

    scheme_version = relationship("CreditSchemeVersion")
    result = relationship("EvaluationResult")


class GradeChange(db.Model):
    """Grade history: one row each time an enterprise's grade (or its scheme version) changes."""

    __tablename__ = "credit_grade_changes"
    __table_args__ = (sa.Index("ix_credit_grade_changes_enterprise", "enterprise_id", "effective_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    scheme_version_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_scheme_versions.id"))
    grade: Mapped[str] = mapped_column(sa.String(16))
    score: Mapped[int] = mapped_column()
    effective_on: Mapped[date] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(200), default="")

    scheme_version = relationship("CreditSchemeVersion")


# --- annual evaluation runs ---------------------------------------------------------------------------------------

class RunStatus(enum.StrEnum):
    """DOMAIN §2.5: computed (拟评) → public notice (公示) → final (审定, published)."""

    COMPUTED = "computed"
    PUBLIC_NOTICE = "public_notice"
    FINAL = "final"


class ObjectionStatus(enum.StrEnum):
    OPEN = "open"
    SUSTAINED = "sustained"  # the result was recomputed
    DISMISSED = "dismissed"


class EvaluationRun(TimestampMixin, db.Model):
    """The annual evaluation of one period (1 Jan–31 Dec of `year`) for the enterprises under a region prefix."""

    __tablename__ = "credit_evaluation_runs"
    __table_args__ = (sa.UniqueConstraint("year", "jurisdiction_prefix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column()
    jurisdiction_prefix: Mapped[str] = mapped_column(sa.String(6), default="")
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, 16), default=RunStatus.COMPUTED)
    notice_days: Mapped[int] = mapped_column(default=15)
    notice_starts_on: Mapped[date | None] = mapped_column()
    notice_ends_on: Mapped[date | None] = mapped_column()  # last day objections are accepted
    computed_at: Mapped[datetime] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    finalised_at: Mapped[datetime | None] = mapped_column()
    finalised_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    results = relationship("EvaluationResult", back_populates="run", order_by="EvaluationResult.id")


class EvaluationResult(TimestampMixin, db.Model):
    """One enterprise's proposed (then final) grade in a run, with the scheme version and the ledger lines that
    produced it; `revision` rises when a sustained objection recomputes it."""

    __tablename__ = "credit_evaluation_results"
    __table_args__ = (sa.UniqueConstraint("run_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_evaluation_runs.id"))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    scheme_version_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_scheme_versions.id"))
    score: Mapped[int] = mapped_column()
    grade: Mapped[str] = mapped_column(sa.String(16))
    is_vetoed: Mapped[bool] = mapped_column(default=False)
    explanation: Mapped[list] = mapped_column(sa.JSON, default=list)
    revision: Mapped[int] = mapped_column(default=1)

    run = relationship("EvaluationRun", back_populates="results")
    enterprise = relationship("Enterprise")
    scheme_version = relationship("CreditSchemeVersion")
    objections = relationship("Objection", back_populates="result", order_by="Objection.id")


class Objection(TimestampMixin, db.Model):
    """An enterprise's objection (异议) to its proposed result, answered in writing before the run is final."""

    __tablename__ = "credit_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_evaluation_results.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    grounds: Mapped[str] = mapped_column(sa.Text)
    supporting_evidence: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[ObjectionStatus] = mapped_column(str_enum(ObjectionStatus, 16), default=ObjectionStatus.OPEN)
    reply: Mapped[str] = mapped_column(sa.Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column()

    result = relationship("EvaluationResult", back_populates="objections")


# --- black and white lists (DOMAIN §4) ------------------------------------------------------------------------------

class ListKind(enum.StrEnum):
    BLACK = "black"  # 严重失信名单 / 联合惩戒对象
    WHITE = "white"  # 监督执法正面清单


class ListStatus(enum.StrEnum):
    """CANDIDATE → PRIOR_NOTICE → LISTED → REMOVED | EXPIRED | REVOKED; a candidate may be REJECTED."""

    CANDIDATE = "candidate"
    PRIOR_NOTICE = "prior_notice"
    LISTED = "listed"
    REJECTED = "rejected"
    REMOVED = "removed"
    EXPIRED = "expired"
    REVOKED = "revoked"


class CreditListEntry(TimestampMixin, db.Model):
    """One enterprise's passage through the black or white list, from candidate to removal."""

    __tablename__ = "credit_list_entries"
    __table_args__ = (sa.Index("ix_credit_list_entries_kind_status", "kind", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    kind: Mapped[ListKind] = mapped_column(str_enum(ListKind, 8))
    status: Mapped[ListStatus] = mapped_column(str_enum(ListStatus, 16), default=ListStatus.CANDIDATE)
    basis: Mapped[str] = mapped_column(sa.String(40))  # rule that made it a candidate, or "proposal"
    # The evidence that is the listing's reason (the veto event); its repair removes the listing.
    evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    notice_sent_on: Mapped[date | None] = mapped_column()
    statement_due_on: Mapped[date | None] = mapped_column()
    statement: Mapped[str] = mapped_column(sa.Text, default="")
    statement_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    listed_on: Mapped[date | None] = mapped_column()
    min_until: Mapped[date | None] = mapped_column()
    max_until: Mapped[date | None] = mapped_column()
    ended_on: Mapped[date | None] = mapped_column()
    end_reason: Mapped[str] = mapped_column(sa.Text, default="")

    enterprise = relationship("Enterprise")


# --- credit repair (DOMAIN §3.3) ------------------------------------------------------------------------------------

class RepairStatus(enum.StrEnum):
    """APPLIED → VERIFYING → PUBLIC_NOTICE → REPAIRED; APPLIED → RETURNED (resubmit) → APPLIED;
    VERIFYING → REJECTED; PUBLIC_NOTICE → VERIFYING on a valid objection."""

    APPLIED = "applied"
    RETURNED = "returned"
    VERIFYING = "verifying"
    PUBLIC_NOTICE = "public_notice"
    REPAIRED = "repaired"
    REJECTED = "rejected"


class RepairApplication(TimestampMixin, db.Model):
    """An enterprise's application to repair either a final annual grade (result_id: raised by one level) or one
    item of dishonesty information (evidence_id: it stops counting, is no longer published, and a black listing
    it caused is removed)."""

    __tablename__ = "credit_repair_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    result_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credit_evaluation_results.id"))
    evidence_id: Mapped[int | None] = mapped_column(sa.ForeignKey("evidence.id"), index=True)
    status: Mapped[RepairStatus] = mapped_column(str_enum(RepairStatus, 16), default=RepairStatus.APPLIED)
    from_grade: Mapped[str] = mapped_column(sa.String(16))
    to_grade: Mapped[str] = mapped_column(sa.String(16))
    rectification: Mapped[str] = mapped_column(sa.Text)
    materials: Mapped[str] = mapped_column(sa.Text, default="")
    commitment: Mapped[bool] = mapped_column(default=False)  # public credit commitment (信用承诺)
    applied_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    regulator_note: Mapped[str] = mapped_column(sa.Text, default="")
    notice_starts_on: Mapped[date | None] = mapped_column()
    notice_ends_on: Mapped[date | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()

    enterprise = relationship("Enterprise")
    result = relationship("EvaluationResult")
    evidence = relationship("Evidence")


# --- 双随机 draws (DOMAIN §8.5) --------------------------------------------------------------------------------------

class InspectionDraw(TimestampMixin, db.Model):
    """A sealed random draw of inspection targets and inspectors for one jurisdiction and quarter. The seed, the
    pool snapshot and the result are kept so anyone can re-run it (credit.draw.draw) and check the seal."""

    __tablename__ = "credit_inspection_draws"
    __table_args__ = (sa.UniqueConstraint("jurisdiction_prefix", "year", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction_prefix: Mapped[str] = mapped_column(sa.String(6))
    year: Mapped[int] = mapped_column()
    quarter: Mapped[int] = mapped_column()
    seed: Mapped[str] = mapped_column(sa.String(64))
    config: Mapped[dict] = mapped_column(sa.JSON)
    pool: Mapped[dict] = mapped_column(sa.JSON)
    pool_hash: Mapped[str] = mapped_column(sa.String(64))
    result: Mapped[list] = mapped_column(sa.JSON)
    seal: Mapped[str] = mapped_column(sa.String(64))
    drawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column()


class InspectorConflict(TimestampMixin, db.Model):
    """A recorded conflict of interest between an inspector and an enterprise (DOMAIN §8.5 step 3): the inspector is
    never drawn for that enterprise while the declaration is in force. Part of every draw's sealed snapshot."""

    __tablename__ = "credit_inspector_conflicts"
    __table_args__ = (sa.Index("ix_credit_inspector_conflicts_pair", "inspector_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspector_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    ended_on: Mapped[date | None] = mapped_column()
    end_reason: Mapped[str] = mapped_column(sa.Text, default="")

    inspector = relationship("User", foreign_keys=[inspector_id])
    enterprise = relationship("Enterprise")


class EvidenceAttachment(db.Model):
    """A document attached to an evidence item by a regulator (the decision, the inspection record, photos): PDF,
    JPEG or PNG sniffed from its content, stored content-addressed under instance/. Public when its evidence is."""

    __tablename__ = "credit_evidence_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(sa.String(64))
    path: Mapped[str] = mapped_column(sa.String(200))  # relative to the credit upload root
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column()

    evidence = relationship("Evidence", back_populates="attachments")
