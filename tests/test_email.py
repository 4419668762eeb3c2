"""Email to partners (links and homework reminders), against a real local SMTP server
(aiosmtpd) started by the test."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from tests.helpers import csrf_from, login


class Inbox(Sink):
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls this hook
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {
        k: app.config[k]
        for k in (
            "RECONNECT_CLINIC_SMTP_HOST",
            "RECONNECT_CLINIC_SMTP_PORT",
            "RECONNECT_CLINIC_SMTP_STARTTLS",
        )
    }
    app.config.update(
        RECONNECT_CLINIC_SMTP_HOST="127.0.0.1",
        RECONNECT_CLINIC_SMTP_PORT=port,
        RECONNECT_CLINIC_SMTP_STARTTLS=False,
    )
    yield inbox
    controller.stop()
    app.config.update(saved)


def _make_link(client, couple, send=True):
    """Make partner A's intake link; the page that shows it once (the post answers
    with a redirect to it)."""
    token = csrf_from(client.get(f"/clinic/couples/{couple.id}").text)
    data = {"csrf_token": token}
    if send:
        data["send_email"] = "y"
    made = client.post(f"/clinic/couples/{couple.id}/partners/a/links/intake", data=data)
    assert made.status_code == 303
    return client.get(made.headers["Location"])


def test_link_is_emailed_to_the_partner(client, make, smtp):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    page = client.get(f"/clinic/couples/{couple.id}").text
    assert f"Email it to {couple.partner_a.email}" in page
    made = _make_link(client, couple)
    assert f"Emailed to {couple.partner_a.email}." in made.text
    assert len(smtp.messages) == 1
    recipients, body = smtp.messages[0]
    assert recipients == [couple.partner_a.email]
    url = made.text.split('readonly value="')[1].split('"')[0]
    assert url in body
    assert couple.partner_b.first_name not in body  # nothing about the other partner


def test_failed_email_still_shows_the_link(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    saved = app.config["RECONNECT_CLINIC_SMTP_HOST"], app.config["RECONNECT_CLINIC_SMTP_PORT"]
    app.config.update(
        RECONNECT_CLINIC_SMTP_HOST="127.0.0.1", RECONNECT_CLINIC_SMTP_PORT=_free_port()
    )
    try:
        made = _make_link(client, couple)
    finally:
        app.config["RECONNECT_CLINIC_SMTP_HOST"], app.config["RECONNECT_CLINIC_SMTP_PORT"] = saved
    assert made.status_code == 200
    assert "could not be sent" in made.text
    assert "/clinic/i/" in made.text


def test_without_smtp_there_is_no_email_option(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    assert "Email it to" not in client.get(f"/clinic/couples/{couple.id}").text
    made = _make_link(client, couple)
    assert "Email is not set up" in made.text


def test_reminders_go_out_once(app, make, smtp, cli):
    from datetime import date, timedelta

    owner = make.therapist()
    couple = make.couple(owner)
    today = date.today()  # noqa: DTZ011
    due = make.assignment(owner, couple, starts_on=today - timedelta(days=6), days=6)
    make.assignment(owner, couple, starts_on=today, days=10)  # not due yet
    runner = cli
    off = runner.invoke(args=["clinic", "send-reminders"])
    assert "reminders are off" in off.output.lower()
    assert smtp.messages == []
    app.config["RECONNECT_CLINIC_HOMEWORK_REMINDERS"] = True
    try:
        first = runner.invoke(args=["clinic", "send-reminders"])
        second = runner.invoke(args=["clinic", "send-reminders"])
    finally:
        app.config["RECONNECT_CLINIC_HOMEWORK_REMINDERS"] = False
    assert first.exit_code == 0, first.output
    assert "Reminders sent: 2" in first.output
    assert "Reminders sent: 0" in second.output
    assert sorted(m[0][0] for m in smtp.messages) == sorted(
        [couple.partner_a.email, couple.partner_b.email]
    )
    assert all(due.title in body for _, body in smtp.messages)
