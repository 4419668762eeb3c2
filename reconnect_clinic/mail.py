"""Sending plain-text email through the practice's SMTP server (standard library only)."""

from __future__ import annotations

import importlib
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from typing import cast

from flask import request

from .state import config


def public_url(path: str) -> str:
    """An absolute address for ``path``: from RECONNECT_CLINIC_PUBLIC_URL when set, so
    an emailed link never carries an internal host name; else from the request."""
    base: str | None = config("PUBLIC_URL")
    if base:
        return base.rstrip("/") + path
    return request.host_url.rstrip("/") + path


class MailNotConfigured(RuntimeError):
    pass


MailSender = Callable[[str, str, str], None]


def mail_enabled() -> bool:
    return bool(config("MAIL_SENDER") or config("SMTP_HOST"))


def host_sender(setting: MailSender | str | None) -> MailSender | None:
    """The host's ``send(to, subject, body)`` from RECONNECT_CLINIC_MAIL_SENDER: the
    callable itself, or its import path ("package.module:function"); None when unset."""
    if setting is None or callable(setting):
        return setting
    module_name, sep, attribute = setting.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(
            f"RECONNECT_CLINIC_MAIL_SENDER must be a callable or 'module:function', got {setting!r}"
        )
    sender = getattr(importlib.import_module(module_name), attribute)
    if not callable(sender):
        raise ValueError(f"RECONNECT_CLINIC_MAIL_SENDER {setting!r} is not callable")
    return cast(MailSender, sender)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one message, raising on any failure so the caller can tell the therapist:
    through the host's mailer when RECONNECT_CLINIC_MAIL_SENDER is set, else by SMTP."""
    sender = host_sender(config("MAIL_SENDER"))
    if sender is not None:
        sender(to, subject, body)
        return
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
