"""Sending plain-text email through the practice's SMTP server (standard library only)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import request

from .state import config


def public_url(path: str) -> str:
    """An absolute address for ``path``: from RECONNECT_CLINIC_PUBLIC_URL when set, so
    an emailed link never carries an internal host name; else from the request."""
    base = config("PUBLIC_URL")
    if base:
        return base.rstrip("/") + path
    return request.host_url.rstrip("/") + path


class MailNotConfigured(RuntimeError):
    pass


def mail_enabled() -> bool:
    return bool(config("SMTP_HOST"))


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one message, raising on any failure so the caller can tell the therapist."""
    host = config("SMTP_HOST")
    if not host:
        raise MailNotConfigured("RECONNECT_CLINIC_SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = config("MAIL_FROM")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(host, config("SMTP_PORT"), timeout=15) as smtp:
        if config("SMTP_STARTTLS"):
            # A verified certificate: Python's bare starttls() would accept any server.
            smtp.starttls(context=ssl.create_default_context())
        username = config("SMTP_USERNAME")
        if username:
            smtp.login(username, config("SMTP_PASSWORD") or "")
        smtp.send_message(message)
