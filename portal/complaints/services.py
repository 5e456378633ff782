"""Complaint use cases (DOMAIN §6), one import point for views, jobs and tests.

The code lives in cohesive modules; this module re-exports their public names so `services.submit_complaint(...)`
and the job path `portal.complaints.services:escalate_overdue` keep working:

- intake.py         public intake and tracking (Intake, submit_complaint, find_for_reporter, add_information, …)
- handling.py       the regulator console's decisions, queue and SLA clocks, duplicates, merging, escalation job
- investigation.py  investigation notes linked to on-site inspections and penalty decisions (handler and lead only)
- common.py         timeline events, state moves, audit facts, reporter notifications (package-internal)
"""
from __future__ import annotations

from portal.complaints.common import _local_date, notify_reporters, upload_root
from portal.complaints.handling import (accept_complaint, can_see_reporter, can_view, close_complaint,
                                        decide_extension, dispatch_candidates, dispatch_complaint, due_of,
                                        duplicate_candidates, escalate_overdue, get_for_handler, merge_complaint,
                                        possible_duplicates, queue, queue_select, reject_complaint, reopen_complaint,
                                        reply_complaint, report_result, reporter_identity, request_extension, sla_of,
                                        start_investigation)
from portal.complaints.intake import (Intake, add_information, existing_submission, find_for_reporter, intake_errors,
                                      rate_satisfaction, request_review, review_deadline, submit_complaint,
                                      tracked_view)
from portal.complaints.investigation import (add_investigation_note, can_see_notes, linkable_evidence, notes_for,
                                             result_references)
from portal.extensions import db

add_note = add_investigation_note  # the console's and older callers' name

__all__ = [
    "Intake", "_local_date", "accept_complaint", "add_information", "add_investigation_note", "add_note",
    "can_see_notes", "linkable_evidence", "notes_for", "result_references", "can_see_reporter", "can_view",
    "close_complaint", "db", "decide_extension", "dispatch_candidates", "dispatch_complaint", "due_of",
    "duplicate_candidates", "escalate_overdue", "existing_submission", "find_for_reporter", "get_for_handler",
    "intake_errors", "merge_complaint", "notify_reporters", "possible_duplicates", "queue", "queue_select",
    "rate_satisfaction", "reject_complaint", "reopen_complaint",
    "reply_complaint", "report_result", "reporter_identity", "request_extension", "request_review",
    "review_deadline", "sla_of", "start_investigation", "submit_complaint", "tracked_view", "upload_root",
]
