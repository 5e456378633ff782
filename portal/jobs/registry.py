"""Named jobs: each pairs a function with a crontab schedule (Asia/Shanghai). Every job is idempotent and can be
run by hand (`flask --app wsgi jobs run NAME`); the scheduler process runs them on their schedule."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from apscheduler.triggers.cron import CronTrigger

TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Job:
    """A named job. `target` is a callable or a "module:function" path imported when the job runs, so job bodies
    stay service functions in their own domain package (STYLE.md §6.6) and this module imports none of them."""

    name: str
    target: Callable[..., object] | str
    cron: str
    description: str

    @property
    def func(self) -> Callable[..., object]:
        if callable(self.target):
            return self.target
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def trigger(self) -> CronTrigger:
        return CronTrigger.from_crontab(self.cron, timezone=TIMEZONE)


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job("send-outbox", "portal.mail.services:send_pending", "* * * * *", "Deliver queued e-mails."),
        Job("permit-renewal-reminders", "portal.enterprises.reminders:permit_renewal_reminders", "0 8 * * *",
            "E-mail enterprise users about permits expiring within PERMIT_RENEWAL_REMINDER_DAYS days."),
        Job("monitoring-gaps", "portal.monitoring.jobs:hourly_checks", "5 * * * *",
            "Record automatic-monitoring gaps (no valid hour for MONITORING_GAP_HOURS hours), propose one finding per "
            "device silence past HJ212_SILENCE_HOURS not covered by a timely Art. 23 report, derive hourly means of "
            "minute data and judge daily means of days that have ended."),
        Job("integrity-scan", "portal.integrity.scanning:run_incremental", "25 * * * *", "Integrity rules R1-R13 on outlets with a new day of hourly data since their watermark (flags are clues for regulators)."),  # noqa: E501
        Job("monitoring-imports", "portal.monitoring.imports:run_pending", "* * * * *",
            "Check and write queued self-monitoring file imports (web workers start them at once when they can)."),
        Job("monitoring-partitions", "portal.monitoring.partitions:run_maintenance", "50 2 * * *",
            "PostgreSQL: monthly partitions of monitoring values for this and the next 3 months; rows that reached "
            "the default partition move to partitions of their months."),
        Job("monitoring-compaction", "portal.monitoring.compaction:compact", "20 2 * * *",
            "Pack minute and real-time values older than MONITORING_COMPACT_AFTER_DAYS per outlet, pollutant and day "
            "(exact values, ~10 bytes each); bounded rows per run."),
        Job("monitoring-retention", "portal.monitoring.compaction:enforce_retention", "35 2 * * *",
            "Delete monitoring values and packs older than their data type's retention (never under "
            "RAW_RECORD_RETENTION_YEARS, at least 5 years: 监测条例 art. 26)."),
        Job("complaint-sla", "portal.complaints.services:escalate_overdue", "30 7 * * *",
            "Escalate overdue complaints to the jurisdiction's leads, once per due date."),
        Job("complaint-pending-sweep", "portal.complaints.pending:sweep", "*/15 * * * *",
            "Delete complaint-form files kept after a validation error once their hour is over."),
        Job("permit-report-deadlines", "portal.permits.services:run_deadlines", "35 0 * * *",
            "Permit execution reports: create started periods' obligations; past due -> MISSING (a finding) or "
            "SHUTDOWN; reminders 14, 3 and 1 days ahead."),
        Job("disclosure-deadlines", "portal.disclosures.supervision:run_deadlines", "30 0 * * *",
            "Disclosure obligations: unfiled past due -> MISSING; reminders 30, 7 and 1 days ahead."),
        Job("disclosure-copies", "portal.disclosures.copies:render_pending_copies", "*/2 * * * *",
            "Render the copy-of-record PDF of newly published disclosure reports."),
        Job("audit-publish-heads", "portal.audit.services:publish_heads_job", "5 0 * * *",
            "Seal the heads of every audit chain together and publish them (/audit/heads and its Atom feed)."),
        Job("search-versions-prune", "portal.search.cache:prune", "40 3 * * *",
            "Prune the search data-version log to its newest row."),
        Job("credit-refresh", "portal.credit.services:refresh_due_standings", "10 0 * * *",
            "Recompute credit standings whose ledger entries start or stop counting today."),
        Job("credit-list-expiry", "portal.credit.lists:expire_listings", "20 0 * * *",
            "Black and positive listings past their maximum period leave the list."),
        Job("credit-publication-end", "portal.credit.publication:unpublish_due", "25 0 * * *",
            "NDRC Order 36: minor dishonesty items are not published; general and serious ones stop being "
            "published at their maximum period (audited)."),
        Job("envcode-refresh", "portal.envcode.services:refresh_all", "*/5 * * * *",
            "Backstop: recompute every enterprise environmental code (the commit hook keeps them current)."),
        Job("opendays-credit", "portal.opendays.services:record_held_open_days", "40 0 * * *",
            "Record open days held yesterday or earlier as credit evidence where the scheme gives a bonus."),
        Job("opendata-export", "portal.opendata.bulk:build_all", "15 3 * * *",
            "Rebuild the bulk CSV files and their manifest in OPENDATA_DIR (instance/opendata)."),
        Job("opendata-digest-immediate", "portal.opendata.subscriptions:send_immediate", "*/10 * * * *",
            "E-mail new public events to confirmed immediate subscriptions (through the outbox)."),
        Job("opendata-digest-weekly", "portal.opendata.subscriptions:send_weekly", "0 8 * * 1",
            "E-mail the weekly digest of public events to confirmed weekly subscriptions."),
        Job("auth-housekeeping", "portal.auth.housekeeping:purge", "55 3 * * *",
            "Purge ended sessions, spent or expired reset and registration links and old login throttles after "
            "AUTH_RETENTION_DAYS (one audit record per run)."),
        Job("job-runs-prune", "portal.jobs.runner:prune_runs", "45 3 * * *",
            "Delete finished job runs older than JOB_RUN_RETENTION_DAYS (the newest run of each job is kept)."),
    )
}
