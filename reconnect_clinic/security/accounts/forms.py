"""Login and logout forms (standalone mode)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ...text import clean_text


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], filters=[clean_text])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class PostOnlyForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        validators=[DataRequired("Please enter the 6-digit code."), Length(max=12)],
        filters=[clean_text],
    )


class SecondFactorForm(FlaskForm):
    """The second step of a sign-in, or proof before changing the second factor: a code
    from the app, or one of the recovery codes."""

    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[
            DataRequired("Please enter the 6-digit code, or a recovery code."),
            Length(max=32),
        ],
        filters=[clean_text],
    )


class PasswordChangeForm(FlaskForm):
    """A therapist's new password, with the current one as proof (a session left open on
    a shared computer must not be enough to take the account over)."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=1024)]
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=1024)],
        description="At least 8 characters. A few words of your own make a good one.",
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired(),
            EqualTo("new_password", "The two new passwords are not the same."),
        ],
    )
