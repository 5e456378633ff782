"""Named permissions (Warehouse style: <scope>:<resource>:<action>) and the role → permission table.

Routes check a permission with @require; object-level checks are the can_* predicates in auth/rules.py.
"""
from __future__ import annotations

import enum
from functools import wraps
from typing import Callable

from flask import abort
from flask_login import current_user

from portal.auth.models import Role


class Permission(enum.StrEnum):
    ACCOUNTS_MANAGE = "admin:accounts:manage"
    AUDIT_VIEW = "audit:view"
    BINDING_DECIDE = "auth:bindings:decide"
    BINDING_REQUEST = "auth:bindings:request"
    CALENDAR_MANAGE = "admin:calendar:manage"
    COMPLAINT_EXTEND = "complaints:extension:approve"
    COMPLAINT_HANDLE = "complaints:cases:handle"
    CREDIT_EVIDENCE_RECORD = "credit:evidence:record"
    CREDIT_EVALUATE = "credit:runs:manage"
    CREDIT_OBJECT = "credit:objections:file"
    DATAERROR_HANDLE = "dataerrors:reports:handle"
    DISCLOSURE_DEADLINES = "disclosures:deadlines:manage"
    DISCLOSURE_EDIT = "disclosures:drafts:edit"
    DISCLOSURE_SUBMIT = "disclosures:reports:submit"
    DISCLOSURE_SUPERVISE = "disclosures:obligations:supervise"
    ENTERPRISE_PRIVATE_VIEW = "enterprises:private:view"
    ENTERPRISE_PROPOSE = "enterprises:proposals:create"
    MONITORING_SUBMIT = "monitoring:results:submit"
    MONITORING_SUPERVISE = "monitoring:supervise"
    OPENDAY_MANAGE = "opendays:events:manage"
    PROPOSAL_DECIDE = "enterprises:proposals:decide"
    REGISTRY_EDIT = "enterprises:registry:edit"
    REGISTRY_VIEW_JURISDICTION = "enterprises:registry:view"
    REWARD_APPROVE = "rewards:cases:approve"
    REWARD_HANDLE = "rewards:cases:handle"
    REWARD_TABLE = "rewards:table:manage"
    SERVICEBODY_EDIT = "servicebodies:registry:edit"
    SERVICEBODY_EVIDENCE = "servicebodies:evidence:record"
    SERVICEBODY_SCHEME = "servicebodies:scheme:edit"


_ENTERPRISE = frozenset({Permission.BINDING_REQUEST, Permission.ENTERPRISE_PRIVATE_VIEW, Permission.ENTERPRISE_PROPOSE,
                         Permission.DISCLOSURE_EDIT, Permission.MONITORING_SUBMIT,
                         Permission.CREDIT_OBJECT, Permission.OPENDAY_MANAGE})
_REGULATOR = frozenset(
    {
        Permission.AUDIT_VIEW,
        Permission.BINDING_DECIDE,
        Permission.COMPLAINT_HANDLE,
        Permission.DATAERROR_HANDLE,
        Permission.CREDIT_EVIDENCE_RECORD,
        Permission.CREDIT_EVALUATE,
        Permission.PROPOSAL_DECIDE,
        Permission.REGISTRY_EDIT,
        Permission.REGISTRY_VIEW_JURISDICTION,
        Permission.DISCLOSURE_SUPERVISE,
        Permission.MONITORING_SUPERVISE,
        Permission.REWARD_HANDLE,
        Permission.SERVICEBODY_EDIT,
        Permission.SERVICEBODY_EVIDENCE,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ENTERPRISE_STAFF: _ENTERPRISE,
    Role.ENTERPRISE_SIGNATORY: _ENTERPRISE | {Permission.DISCLOSURE_SUBMIT},
    Role.REGULATOR: _REGULATOR,
    Role.REGULATOR_LEAD: _REGULATOR | {Permission.COMPLAINT_EXTEND, Permission.DISCLOSURE_DEADLINES}
    | {Permission.REWARD_APPROVE, Permission.REWARD_TABLE, Permission.SERVICEBODY_SCHEME},
    Role.ADMIN: frozenset({Permission.ACCOUNTS_MANAGE, Permission.AUDIT_VIEW, Permission.CALENDAR_MANAGE}),
}


def has_permission(user, permission: Permission) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def require(*permissions: Permission) -> Callable:
    """Route decorator: 401 (login redirect) for anonymous users, 403 when a permission is missing."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from portal.extensions import login_manager

                return login_manager.unauthorized()
            if not all(has_permission(current_user, p) for p in permissions):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = permissions  # read by the route-authorisation test
        return wrapped

    return decorator
