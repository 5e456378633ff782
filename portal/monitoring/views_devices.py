"""Device pages: the regulator's and the enterprise's view of one data logger (liveness, protocol, where it sends,
rejections by reason) and the regulator's SM4 key rotation. Routes live on the monitoring blueprint."""
from __future__ import annotations

from flask import abort, make_response, render_template
from flask_login import current_user

from portal.auth.permissions import Permission, has_permission, require
from portal.auth.rules import can_edit_registry, in_jurisdiction
from portal.core.forms import apply_domain_error
from portal.errors import DomainError
from portal.extensions import db
from portal.monitoring import devicepage, forms, services, unknown_senders
from portal.monitoring.models import Device
from portal.monitoring.views import bp


def private(body, status: int = 200):
    """Device pages carry addresses and, once, an SM4 key: never cached."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _regulator_device(device_id: int) -> Device:
    device = db.get_or_404(Device, device_id)
    if not in_jurisdiction(current_user.jurisdiction_code, device.enterprise.region_code):
        abort(404)
    return device


@bp.get("/monitoring/devices/<int:device_id>")
@require(Permission.MONITORING_SUPERVISE)
def device(device_id: int):
    item = _regulator_device(device_id)
    return private(render_template("monitoring/device.html", regulator=True, key_form=forms.RotateKeyForm(),
                                   **devicepage.context(item)))


@bp.post("/monitoring/devices/<int:device_id>/sm4-key")
@require(Permission.MONITORING_SUPERVISE)
def rotate_key(device_id: int):
    """A new SM4 key, shown once in this response (no-store), stored encrypted, audited."""
    item = _regulator_device(device_id)
    if not can_edit_registry(current_user.role, current_user.jurisdiction_code, item.enterprise.region_code):
        abort(403)
    form = forms.RotateKeyForm()
    new_key, status = None, 400
    if form.validate_on_submit():
        try:
            new_key = services.rotate_sm4_key(current_user, item, form.sm4_key.data)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            status = 200
    return private(render_template("monitoring/device.html", regulator=True, key_form=form, new_key=new_key,
                                   **devicepage.context(item)), status)


@bp.get("/monitoring/my/devices")
@require(Permission.MONITORING_SUBMIT)
def my_devices():
    if current_user.enterprise_id is None:
        abort(403)
    return private(render_template("monitoring/my_devices.html", devices=devicepage.enterprise_devices(
        current_user.enterprise_id), where=devicepage.endpoints()))


@bp.get("/monitoring/my/devices/<int:device_id>")
@require(Permission.MONITORING_SUBMIT)
def my_device(device_id: int):
    item = db.get_or_404(Device, device_id)
    if current_user.enterprise_id is None or item.enterprise_id != current_user.enterprise_id:
        abort(404)
    return private(render_template("monitoring/device.html", regulator=False, **devicepage.context(item)))


@bp.get("/monitoring/unknown-devices")
@require(Permission.AUDIT_VIEW)
def unknown_devices():
    """Devices not registered that tried to send: administrators and province-level regulators (an unregistered MN
    belongs to no region yet, so a city or county bureau cannot be shown only its own)."""
    if not unknown_senders.may_view(current_user):
        abort(403)
    return private(render_template("monitoring/unknown_devices.html", rows=unknown_senders.latest(),
                                   total=unknown_senders.total(), cap=unknown_senders.cap(),
                                   overflow=unknown_senders.OVERFLOW, reason_label=devicepage.reason_label,
                                   may_register=has_permission(current_user, Permission.MONITORING_SUPERVISE)))
