"""Login, registration, enterprise binding requests, the regulator's binding queue, account administration and the
user's own account page. Paths are written out in full because the blueprint serves both /auth and /admin."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from sqlalchemy.exc import IntegrityError

from portal.core.forms import apply_domain_error
from portal.auth import factors, forms, registration, services, sessions
from portal.auth.models import EnterpriseBinding, Role, User
from portal.auth.permissions import Permission, require
from portal.core.views import safe_next
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db, limiter

bp = Blueprint("auth", __name__)
PENDING_KEY = "_factor_pending"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.record_once
def _configure_cookies(state) -> None:
    sessions.configure(state.app)


def _address() -> str:
    return request.remote_addr or "unknown"


def _landing(user: User) -> str:
    """After login each role lands on its work (portal/home); an enterprise account not yet bound asks first."""
    if user.role.is_enterprise and user.enterprise_id is None:
        return url_for("auth.binding_request")
    return url_for("home.index")


@bp.route("/auth/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), _landing(current_user)))
    form = forms.LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data, _address())
        except services.LoginFailed as exc:
            db.session.commit()  # keep the failure count and lock, which are the point of the check
            error = exc.message
        else:
            next_url = safe_next(request.args.get("next"), "")
            if factors.has_factor(user):  # the second step: the account is not logged in until the code is right
                lang = session.get("lang")
                session.clear()
                if lang:
                    session["lang"] = lang
                session[PENDING_KEY] = {"uid": user.id, "at": int(utcnow().timestamp())}
                db.session.commit()
                return redirect(url_for("auth.login_factor", next=next_url or None))
            services.complete_login(user, _address())
            sessions.start(user)
            db.session.commit()
            if factors.requires_second_factor(user):
                return redirect(url_for("auth.factor_setup"))
            return redirect(next_url or _landing(user))
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/auth/logout")
def logout():
    if current_user.is_authenticated:
        sessions.end_current("logout")
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("search.home"))


@bp.route("/auth/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register():
    """The first step: an address. The answer is the same whether or not the address (or any username) has an
    account; the mail tells the difference, to the mailbox's owner only."""
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    form = forms.RegisterStartForm()
    if form.validate_on_submit():
        registration.start(form.email.data, locale=session.get("lang"))
        db.session.commit()
        flash(_("Check your mail: a message to %(email)s tells you how to go on. A registration link works once, "
                "within %(minutes)d minutes.", email=form.email.data, minutes=registration.minutes()), "info")
        return redirect(url_for("auth.register"))
    return render_template("auth/register.html", form=form)


@bp.route("/auth/register/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def register_finish(token: str):
    """The second step, behind the mailed link: choose the username and password; the account is created here."""
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    row = registration.valid_token(token)
    if row is None:
        return render_template("auth/register_finish.html", form=None, email=None), 404
    form = forms.RegisterForm()
    refused = False
    if form.validate_on_submit():
        refused = True  # unless the account is created below
        try:
            user = registration.finish(token, username=form.username.data, display_name=form.display_name.data,
                                       password=form.password.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        except IntegrityError:  # a simultaneous registration took the name
            db.session.rollback()
            form.username.errors = [_("The username “%(name)s” is already taken. Choose another one.",
                                      name=form.username.data)]
        else:
            sessions.start(user)
            db.session.commit()
            flash(_("Your account was created. Now ask to act for your enterprise."), "success")
            return redirect(url_for("auth.binding_request"))
    status = 400 if refused or form.errors else 200
    return render_template("auth/register_finish.html", form=form, email=row.email), status


@bp.route("/auth/binding", methods=["GET", "POST"])
@require(Permission.BINDING_REQUEST)
def binding_request():
    form = forms.BindingRequestForm()
    if form.validate_on_submit():
        try:
            services.request_binding(current_user, form.uscc.data, Role(form.requested_role.data), form.note.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            flash(_("Your request was sent. A regulator of the enterprise's region will verify it."), "success")
            return redirect(url_for("auth.binding_request"))
    return render_template("auth/binding_request.html", form=form, bindings=services.user_bindings(current_user),
                           role_label=forms.role_label)


@bp.get("/auth/bindings")
@require(Permission.BINDING_DECIDE)
def binding_queue():
    page = request.args.get("page", 1, type=int)
    pagination = services.pending_bindings(current_user.jurisdiction_code, page)
    return render_template("auth/binding_queue.html", pagination=pagination, form=forms.BindingDecisionForm(),
                           role_label=forms.role_label)


@bp.post("/auth/bindings/<int:binding_id>")
@require(Permission.BINDING_DECIDE)
def binding_decide(binding_id: int):
    binding = db.get_or_404(EnterpriseBinding, binding_id)
    if not services.can_decide(current_user, binding):
        abort(404)  # another jurisdiction's request: do not even confirm it exists
    form = forms.BindingDecisionForm()
    if not form.validate_on_submit():
        flash(_("The decision could not be read. Please try again."), "error")
        return redirect(url_for("auth.binding_queue"))
    try:
        services.decide_binding(current_user, binding, approve=bool(form.approve.data), note=form.note.data)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("auth.binding_queue"))
    db.session.commit()
    flash(_("Request approved.") if form.approve.data else _("Request rejected."), "success")
    return redirect(url_for("auth.binding_queue"))


@bp.get("/admin/users")
@require(Permission.ACCOUNTS_MANAGE)
def admin_users():
    filters = forms.UserFilterForm(request.args)
    valid = filters.validate()
    role = Role(filters.role.data) if valid and filters.role.data else None
    pagination = services.list_users(role, request.args.get("page", 1, type=int),
                                     state=(filters.state.data or "") if valid else "")
    return render_template("auth/admin_users.html", filters=filters, pagination=pagination, role=role,
                           role_label=forms.role_label, now_utc=utcnow())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require(Permission.ACCOUNTS_MANAGE)
def admin_user_new():
    form = forms.AccountCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_account(current_user, username=form.username.data,
                                           display_name=form.display_name.data, email=form.email.data,
                                           password=form.password.data, role=Role(form.role.data),
                                           jurisdiction_code=form.jurisdiction_code.data)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        except IntegrityError:
            db.session.rollback()
            form.username.errors = [_("The username “%(name)s” is already taken. Choose another one.",
                                      name=form.username.data)]
        else:
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.admin_user_edit", user_id=user.id))
    return render_template("auth/admin_user_new.html", form=form)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@require(Permission.ACCOUNTS_MANAGE)
def admin_user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = forms.AccountEditForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.role.data = user.role.value
    if form.validate_on_submit():
        try:
            services.update_account(current_user, user, role=Role(form.role.data),
                                    jurisdiction_code=form.jurisdiction_code.data)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Account %(name)s updated.", name=user.username), "success")
            return redirect(url_for("auth.admin_user_edit", user_id=user.id))
    return render_template("auth/admin_user_edit.html", user=user, form=form, has_factor=factors.has_factor(user),
                           role_label=forms.role_label, now_utc=utcnow())


def _admin_action(user_id: int, action) -> object:
    user = db.get_or_404(User, user_id)
    form = forms.ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        message = action(user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("auth.admin_user_edit", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/deactivate")
@require(Permission.ACCOUNTS_MANAGE)
def admin_user_deactivate(user_id: int):
    def act(user):
        services.set_active(current_user, user, False)
        return _("Account %(name)s deactivated.", name=user.username)

    return _admin_action(user_id, act)


@bp.post("/admin/users/<int:user_id>/reactivate")
@require(Permission.ACCOUNTS_MANAGE)
def admin_user_reactivate(user_id: int):
    def act(user):
        services.set_active(current_user, user, True)
        return _("Account %(name)s reactivated.", name=user.username)

    return _admin_action(user_id, act)


@bp.post("/admin/users/<int:user_id>/unlock")
@require(Permission.ACCOUNTS_MANAGE)
def admin_user_unlock(user_id: int):
    def act(user):
        services.unlock_account(current_user, user)
        return _("Account %(name)s unlocked.", name=user.username)

    return _admin_action(user_id, act)


@bp.get("/auth/account")
@login_required
def account():
    language = forms.LanguageForm(locale=current_user.locale or current_app.config["BABEL_DEFAULT_LOCALE"])
    return render_template("auth/account.html", password_form=forms.ChangePasswordForm(), language_form=language,
                           role_label=forms.role_label, has_factor=factors.has_factor(current_user),
                           open_sessions=sessions.open_sessions(current_user))


@bp.post("/auth/account/password")
@login_required
def account_password():
    form = forms.ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            db.session.commit()
            flash(_("Your password was changed."), "success")
            return redirect(url_for("auth.account"))
    language = forms.LanguageForm(locale=current_user.locale or current_app.config["BABEL_DEFAULT_LOCALE"])
    return render_template("auth/account.html", password_form=form, language_form=language,
                           role_label=forms.role_label, has_factor=factors.has_factor(current_user),
                           open_sessions=sessions.open_sessions(current_user)), 400


@bp.post("/auth/account/language")
@login_required
def account_language():
    form = forms.LanguageForm()
    if form.validate_on_submit():
        try:
            services.set_locale(current_user, form.locale.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            session["lang"] = form.locale.data
            flash(_("Language saved."), "success")
    return redirect(url_for("auth.account"))


from portal.auth import security_views  # noqa: E402,F401  (second factor, password reset: routes on this blueprint)
