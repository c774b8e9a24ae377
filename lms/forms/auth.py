from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from lms.forms.messages import PASSWORD_RULE


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"),
                                 validators=[DataRequired(), PASSWORD_RULE])
    confirm = PasswordField(_l("Type the new password again"),
                            validators=[DataRequired(),
                                        EqualTo("new_password",
                                                message=_l("The two do not match."))])


class ChoosePasswordForm(FlaskForm):
    """First visit from an invitation, or a reset link: no current password to give."""

    password = PasswordField(_l("Choose a password"),
                             description=_l("At least 10 characters. A short sentence you will "
                                            "remember is a good password."),
                             validators=[DataRequired(), PASSWORD_RULE])
    confirm = PasswordField(_l("Type it again"),
                            validators=[DataRequired(),
                                        EqualTo("password", message=_l("The two do not match."))])


class JoinForm(FlaskForm):
    """Consent to join a cohort a trainer enrolled one's address in: the button is the answer."""


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Your email address"), validators=[DataRequired(), Length(max=254)])
