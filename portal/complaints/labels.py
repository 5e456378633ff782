"""Display labels for statuses, timeline events and channels (translated when called)."""
from __future__ import annotations

from flask_babel import gettext as _


def status_labels() -> dict[str, str]:
    return {"received": _("Awaiting the acceptance decision"), "rejected": _("Not accepted"),
            "merged": _("Merged into another case"),
            "accepted": _("Accepted"), "assigned": _("Dispatched to the competent bureau"),
            "investigating": _("Under investigation"), "extended": _("Extended"),
            "result_reported": _("Result reported"), "replied": _("Replied"), "closed": _("Closed"),
            "reopened": _("Reopened for review")}


def event_labels() -> dict[str, str]:
    return {"received": _("Complaint received"), "accepted": _("Accepted for handling"),
            "rejected": _("Not accepted"), "merged": _("Merged into case"), "assigned": _("Dispatched"),
            "investigating": _("Investigation started"), "extended": _("Handling extended"),
            "replied": _("Reply sent"), "closed": _("Closed"), "reopened": _("Reopened"),
            "reporter_added": _("Reporter added information"), "rated": _("Reporter rated the handling"),
            "note": _("Internal note"), "assigned_to": _("Assigned to"), "extension_requested": _("Extension requested"),
            "extension_refused": _("Extension refused"), "result_reported": _("Result reported"),
            "co_reporter": _("Another report merged in"), "escalated": _("Overdue: escalated"),
            "enterprise_matched": _("Linked to the registered enterprise of the exact name"),
            "enterprise_linked": _("Linked to an enterprise"), "enterprise_relinked": _("Linked to another enterprise"),
            "enterprise_unlinked": _("Link to the enterprise removed"),
            "transferred": _("Transferred to the competent bureau"), "transfer_reason": _("Reason for the transfer")}


def channel_labels() -> dict[str, str]:
    return {"phone_12369": _("12369 phone"), "dispatch_12345": _("12345 dispatch"), "wechat": _("WeChat"),
            "web": _("Web"), "letter": _("Letter"), "visit": _("Visit")}
