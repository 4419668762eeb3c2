"""Sending measures links: by email when SMTP is set up and the partner has an address,
otherwise handed back to be copied (shown once to the therapist, or printed by
``flask clinic send-measures``). Needs a request context for ``url_for``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, url_for

from .. import i18n
from ..mail import mail_enabled, public_url, send_mail
from ..state import config
from .operations import PURPOSE, Prepared

SUBJECT = i18n.N_("A few questions from {practice}")


@dataclass(frozen=True)
class Delivered:
    partner: str
    due_on: str
    url: str  # empty when emailed: the link is then in the partner's inbox only
    result: str

    def as_dict(self) -> dict[str, str]:
        return {
            "partner": self.partner,
            "due_on": self.due_on,
            "url": self.url,
            "result": self.result,
        }


def measures_url(token: str) -> str:
    return public_url(url_for("reconnect_clinic.link_open", token=token, purpose=PURPOSE))


def _email(prepared: Prepared, url: str) -> str | None:
    """Email one measures link; None when it was sent, else why it must be copied."""
    partner = prepared.partner
    if not mail_enabled():
        return "Email is not set up for this practice; please copy the link."
    if not partner.email:
        return "This partner has no email address; please copy the link."
    practice = config("PRACTICE_NAME")
    # In the partner's language (the therapist's setting), from a page or a command alike.
    with i18n.language(partner.language):
        body = render_template(
            "reconnect_clinic/email/measures_link.txt",
            partner=partner,
            url=url,
            practice=practice,
            expires_on=prepared.issued.link.expires_at.date().isoformat(),
            **i18n.template_context(),
        )
        subject = i18n.gettext(SUBJECT).format(practice=practice)
    try:
        send_mail(partner.email, subject, body)
    except Exception as error:  # any SMTP failure is reported, not raised
        return f"The email could not be sent ({type(error).__name__}); please copy the link."
    prepared.administration.sent_via = "email"
    return None


def deliver(prepared: list[Prepared]) -> list[Delivered]:
    """Email each prepared link where possible; what to show or print for each."""
    shown = []
    for item in prepared:
        url = measures_url(item.issued.token)
        problem = _email(item, url)
        shown.append(
            Delivered(
                partner=item.partner.full_name,
                due_on=item.administration.due_on.isoformat(),
                url="" if problem is None else url,
                result=f"Emailed to {item.partner.email}." if problem is None else problem,
            )
        )
    return shown
