"""Account forms: shape of the input only (the password rules live in passwords.py, applied by services)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from portal.auth.models import Role

USERNAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
USERNAME_MESSAGE = _l("Use 3–64 letters, digits, dots, hyphens or underscores, starting with a letter or digit.")


ROLE_LABELS = {
    Role.ENTERPRISE_STAFF: _l("Enterprise staff"),
    Role.ENTERPRISE_SIGNATORY: _l("Authorised signatory"),
    Role.REGULATOR: _l("Regulator"),
    Role.REGULATOR_LEAD: _l("Regulator lead"),
    Role.ADMIN: _l("Administrator"),
}


def role_label(role: Role | str) -> str:
    return str(ROLE_LABELS[Role(role)])


def _role_choices(roles) -> list[SelectChoice]:
    return [SelectChoice(r.value, ROLE_LABELS[r]) for r in roles]  # lazy labels: translated when rendered


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username."))],
                           filters=[_strip], render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Log in"))


class RegisterStartForm(FlaskForm):
    """The first step of self-registration: only the address, so the answer can be the same for every address."""
    email = EmailField(_l("Email"), filters=[_strip],
                       validators=[DataRequired(_l("Enter your email address.")),
                                   Regexp(EMAIL_RE, message=_l("Enter an email address such as name@example.cn.")), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    submit = SubmitField(_l("Send me a registration link"))


class RegisterForm(FlaskForm):
    """The second step, behind the mailed link: the address is the link's."""
    username = StringField(_l("Username"), filters=[_strip],
                           validators=[DataRequired(_l("Choose a username.")), Regexp(USERNAME_RE, message=USERNAME_MESSAGE)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    display_name = StringField(_l("Your name"), filters=[_strip],
                               validators=[DataRequired(_l("Enter your name.")), Length(max=100)],
                               render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password."))],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(_l("Repeat the password.")),
                                        EqualTo("password", _l("The two passwords are not the same."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Create account"))


class BindingRequestForm(FlaskForm):
    uscc = StringField(_l("Unified social credit code"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the enterprise's 18-character credit code."))],
                       render_kw={"autocapitalize": "characters", "spellcheck": "false"})
    requested_role = SelectField(_l("Role requested"),
                                 choices=_role_choices((Role.ENTERPRISE_STAFF, Role.ENTERPRISE_SIGNATORY)))
    note = TextAreaField(_l("Note for the regulator"), filters=[_strip], validators=[Length(max=1000)])
    submit = SubmitField(_l("Send request"))


class BindingDecisionForm(FlaskForm):
    note = TextAreaField(_l("Decision note"), filters=[_strip], validators=[Length(max=1000)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class ActionForm(FlaskForm):
    """A button-only POST (deactivate, unlock): the form carries just the CSRF token."""


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    role = SelectField(_l("Role"), choices=[SelectChoice("", _l("All roles"))] + _role_choices(Role), validators=[Optional()])
    state = SelectField(_l("Status"), choices=[SelectChoice("", _l("Any status")), SelectChoice("locked", _l("Locked")),
                                               SelectChoice("inactive", _l("Deactivated"))], validators=[Optional()])


class AccountCreateForm(FlaskForm):
    username = StringField(_l("Username"), filters=[_strip],
                           validators=[DataRequired(_l("Choose a username.")), Regexp(USERNAME_RE, message=USERNAME_MESSAGE)])
    display_name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(_l("Enter the name.")),
                                                                         Length(max=100)])
    email = EmailField(_l("Email"), filters=[_strip],
                       validators=[Optional(), Regexp(EMAIL_RE, message=_l("Enter an email address such as name@example.cn.")),
                                   Length(max=254)])
    role = SelectField(_l("Role"), choices=_role_choices((Role.REGULATOR, Role.REGULATOR_LEAD, Role.ADMIN)))
    jurisdiction_code = StringField(_l("Jurisdiction (region-code prefix)"), filters=[_strip],
                                    validators=[Optional(), Regexp(r"^\d{2}(\d{2}){0,2}$", message=_l(
                                        "Use 2, 4 or 6 digits, such as 32, 3208 or 320826."))])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(_l("Choose a password."))],
                             render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Create account"))


class AccountEditForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices(Role))
    jurisdiction_code = StringField(_l("Jurisdiction (region-code prefix)"), filters=[_strip],
                                    validators=[Optional(), Regexp(r"^\d{2}(\d{2}){0,2}$", message=_l(
                                        "Use 2, 4 or 6 digits, such as 32, 3208 or 320826."))])
    submit = SubmitField(_l("Save changes"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a new password."))],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(_l("Repeat the new password.")),
                                        EqualTo("new_password", _l("The two passwords are not the same."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Preferred language"), choices=[SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")])
    submit = SubmitField(_l("Save language"))


class FactorForm(FlaskForm):
    code = StringField(_l("Verification code"), filters=[_strip],
                       validators=[DataRequired(_l("Enter the 6-digit code from your authenticator app, or a recovery "
                                                   "code.")), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none",
                                  "spellcheck": "false"})
    submit = SubmitField(_l("Continue"))


class ForgotPasswordForm(FlaskForm):
    identifier = StringField(_l("Username or email"), filters=[_strip],
                             validators=[DataRequired(_l("Enter your username or the email address of your account.")),
                                         Length(max=254)],
                             render_kw={"autocomplete": "username", "autocapitalize": "none"})
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a new password."))],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(_l("Repeat the new password.")),
                                        EqualTo("new_password", _l("The two passwords are not the same."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Set the new password"))
