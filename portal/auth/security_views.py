"""Account security pages on the auth blueprint: the second step of a login, second-factor enrolment and recovery
codes, 'forgot password' and the reset link, and the administrator's forced resets. Views commit."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.audit.services import record
from portal.auth import factors, forms, recovery, services, sessions
from portal.auth.models import User
from portal.auth.permissions import Permission, require
from portal.auth.views import PENDING_KEY, _address, _admin_action, _landing, _login_limit, bp
from portal.core.forms import apply_domain_error
from portal.core.views import safe_next
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db, limiter

# Pages a logged-in account that still owes a second factor may reach (everything else leads to enrolment).
ENROLMENT_OPEN = frozenset({"auth.factor_setup", "auth.logout", "static", "core.set_language", "core.health"})


@bp.before_app_request
def _second_factor_gate():
    """Regulators, leads, administrators and signatories work only in a session opened with a second factor; one
    without (a first login, a factor reset by the administrator, a new signatory role) is led to enrolment."""
    if request.endpoint in ENROLMENT_OPEN or request.endpoint is None:
        return None
    if not current_user.is_authenticated or not factors.requires_second_factor(current_user):
        return None
    row = sessions.current()
    if row is not None and row.factor:
        return None
    if request.method == "GET":
        return redirect(url_for("auth.factor_setup", next=request.full_path.rstrip("?")))
    flash(_("Your role needs a second factor. Set it up first."), "error")
    return redirect(url_for("auth.factor_setup"))


# --- the second step of a login --------------------------------------------------------------------------------

def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("uid"), int) or not isinstance(pending.get("at"), int):
        return None
    if utcnow().timestamp() - pending["at"] > int(current_app.config["LOGIN_FACTOR_MINUTES"]) * 60:
        return None
    user = db.session.get(User, pending["uid"])
    return user if user is not None and user.is_active_account else None


@bp.route("/auth/login/factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login_factor():
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Log in again: the time for the second step ran out."), "info")
        return redirect(url_for("auth.login"))
    form = forms.FactorForm()
    error = None
    if form.validate_on_submit():
        try:
            services.check_throttle(user.username, _address())
            factor = factors.verify(user, form.code.data)
            if factor is None:
                services.count_failure(user.username, _address())
                error = _("The code is not correct. Enter the 6 digits your authenticator app shows now, or one "
                          "of your recovery codes.")
        except services.LoginFailed as exc:
            error = exc.message
        if error:
            db.session.commit()
        else:
            services.complete_login(user, _address())
            sessions.start(user, factor)
            db.session.commit()
            if factor == factors.RECOVERY:
                flash(_("You used a recovery code; %(n)d are left. If you lost your authenticator, ask the "
                        "administrator to reset your second factor.", n=factors.unused_recovery_codes(user)), "info")
            return redirect(safe_next(request.args.get("next"), _landing(user)))
    return render_template("auth/login_factor.html", form=form, error=error), 401 if error else 200


# --- enrolment ---------------------------------------------------------------------------------------------------

@bp.route("/auth/factor", methods=["GET", "POST"])
@login_required
def factor_setup():
    """Guided TOTP enrolment: scan the QR code (or type the key), enter the first code; the recovery codes are shown
    once on success. An enrolled account sees its factor's state here."""
    user = current_user
    if factors.has_factor(user):
        row = sessions.current()
        if factors.requires_second_factor(user) and (row is None or not row.factor):
            # Enrolled (in another session) but this session was opened without the factor: log in again.
            sessions.end_current("factor_required")
            db.session.commit()
            return redirect(url_for("auth.login"))
        return render_template("auth/factor.html", enrolled=True, left=factors.unused_recovery_codes(user),
                               form=forms.FactorForm(), required=factors.requires_second_factor(user))
    form = forms.FactorForm()
    if form.validate_on_submit():
        try:
            codes = factors.confirm_enrolment(user, form.code.data)
            row = sessions.current()
            if row is not None:
                row.factor = factors.TOTP
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next_url=safe_next(request.args.get("next"), _landing(user)))
    secret = factors.pending_secret(user)
    if secret is None:
        secret = factors.begin_enrolment(user)
        db.session.commit()
    uri = factors.provisioning_uri(user, secret)
    return render_template("auth/factor.html", enrolled=False, form=form, secret=secret, qr=factors.qr_svg(uri),
                           required=factors.requires_second_factor(user)), 400 if form.errors else 200


@bp.post("/auth/factor/recovery-codes")
@login_required
def factor_recovery_codes():
    form = forms.FactorForm()
    if form.validate_on_submit() and factors.verify(current_user, form.code.data) is not None:
        codes = factors.regenerate_recovery_codes(current_user)
        db.session.commit()
        return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("auth.factor_setup"))
    db.session.rollback()
    flash(_("The code is not correct; the recovery codes were not changed."), "error")
    return redirect(url_for("auth.factor_setup"))


@bp.post("/auth/factor/remove")
@login_required
def factor_remove():
    form = forms.FactorForm()
    if form.validate_on_submit():
        try:
            factors.remove_own(current_user, form.code.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The second factor was turned off."), "success")
            return redirect(url_for("auth.account"))
    return redirect(url_for("auth.factor_setup"))


@bp.post("/auth/account/sessions/end")
@login_required
def account_end_sessions():
    """Log out everywhere else (a lost phone, a shared computer): every other session of the account ends."""
    ended = sessions.end_all(current_user, "logout_elsewhere", keep=sessions.current())
    record(current_user, "user.sessions_end", current_user, after={"sessions_ended": ended})
    db.session.commit()
    flash(_("%(n)d other session(s) ended.", n=ended), "success")
    return redirect(url_for("auth.account"))


# --- forgotten password ----------------------------------------------------------------------------------------

@bp.route("/auth/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = forms.ForgotPasswordForm()
    if form.validate_on_submit():
        recovery.request_by_email(form.identifier.data)
        db.session.commit()
        # The same answer whether or not such an account exists.
        flash(_("If an account with an email address matches, a link to choose a new password is on its way. It "
                "works once, within %(minutes)d minutes.", minutes=current_app.config["PASSWORD_RESET_MINUTES"]),
              "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_password(token: str):
    if recovery.valid_token(token) is None:
        return render_template("auth/reset.html", form=None), 404
    form = forms.ResetPasswordForm()
    if form.validate_on_submit():
        try:
            recovery.reset(token, form.new_password.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            session.clear()
            flash(_("Your password was changed and every session of the account was ended. Log in with the new "
                    "password."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 400 if form.errors else 200


# --- administrator ---------------------------------------------------------------------------------------------

@bp.post("/admin/users/<int:user_id>/reset-password")
@require(Permission.ACCOUNTS_MANAGE)
def admin_user_reset_password(user_id: int):
    def act(user):
        token = recovery.force(current_user, user)
        if token is None:
            return _("The password of %(name)s no longer works; a reset link was mailed to the account's address.",
                     name=user.username)
        return _("The password of %(name)s no longer works. The account has no email address: give this one-time "
                 "link to its owner in person (valid %(minutes)d minutes): %(link)s", name=user.username,
                 minutes=current_app.config["PASSWORD_RESET_MINUTES"], link=recovery.link(token))

    return _admin_action(user_id, act)


@bp.post("/admin/users/<int:user_id>/reset-factor")
@require(Permission.ACCOUNTS_MANAGE)
def admin_user_reset_factor(user_id: int):
    def act(user):
        factors.admin_reset(current_user, user)
        return _("The second factor of %(name)s was reset and its sessions were ended; the next login leads "
                 "through enrolment.", name=user.username)

    return _admin_action(user_id, act)
