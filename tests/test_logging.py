"""Link tokens never reach a log line."""

from __future__ import annotations

import logging

from reconnect_clinic.security.logfilter import RedactLinkTokens, redact


def test_redact_paths():
    token = "Zq3-x_9" * 6
    assert redact(f'"GET /clinic/i/{token} HTTP/1.1" 302') == '"GET /clinic/i/[token] HTTP/1.1" 302'
    assert redact(f"/clinic/h/{token}?x=1") == "/clinic/h/[token]?x=1"
    assert redact("/clinic/intake/abc/about") == "/clinic/intake/abc/about"


def test_the_access_log_never_shows_a_token(app, make, caplog):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.intake_link(owner, couple.partner_a)
    werkzeug = logging.getLogger("werkzeug")
    assert any(isinstance(f, RedactLinkTokens) for f in werkzeug.filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        # What the development server writes for each request.
        werkzeug.info(
            '%s - - [%s] "%s" %s -', "127.0.0.1", "now", f"GET /clinic/i/{token} HTTP/1.1", 302
        )
        app.logger.error("Exception on %s [%s]", f"/clinic/i/{token}", "GET")
    assert token not in caplog.text
    assert "/clinic/i/[token]" in caplog.text


def test_dict_arguments_as_gunicorn_logs_them():
    token = "A1b2C3d4E5f6G7h8I9j0"
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        '%(h)s "%(r)s"',
        ({"h": "10.0.0.1", "r": f"GET /clinic/h/{token} HTTP/1.1"},),
        None,
    )
    RedactLinkTokens().filter(record)
    assert record.getMessage() == '10.0.0.1 "GET /clinic/h/[token] HTTP/1.1"'
