"""Pure object-access predicates (no database, request or app): the server-side checks every view applies."""
from __future__ import annotations

from portal.auth.models import Role


def in_jurisdiction(jurisdiction_code: str | None, region_code: str | None) -> bool:
    """A regulator's jurisdiction is a GB/T 2260 prefix: '32' province, '3208' city, '320826' county."""
    if not jurisdiction_code or not region_code:
        return False
    return region_code.startswith(jurisdiction_code)


def can_view_enterprise_private(role: Role | None, user_enterprise_id: int | None, user_jurisdiction: str | None,
                                enterprise_id: int, enterprise_region: str) -> bool:
    """Private enterprise pages: the bound enterprise's own users, or regulators of its jurisdiction."""
    if role is None:
        return False
    if role.is_enterprise:
        return user_enterprise_id is not None and user_enterprise_id == enterprise_id
    if role.is_regulator:
        return in_jurisdiction(user_jurisdiction, enterprise_region)
    return False


def can_edit_registry(role: Role | None, user_jurisdiction: str | None, enterprise_region: str) -> bool:
    """Regulators edit registry data only for enterprises in their jurisdiction."""
    return role is not None and role.is_regulator and in_jurisdiction(user_jurisdiction, enterprise_region)


def can_propose_change(role: Role | None, user_enterprise_id: int | None, enterprise_id: int) -> bool:
    """Enterprise users propose changes to their own (bound) enterprise only."""
    return role is not None and role.is_enterprise and user_enterprise_id == enterprise_id


def jurisdiction_covers(outer: str | None, inner: str | None) -> bool:
    """Whether a jurisdiction prefix contains another (a city regulator sees its counties)."""
    return bool(outer) and bool(inner) and inner.startswith(outer)
