"""Link tokens never reach a log line, in whichever spelling a client sent them: unit
tests of the filter, and gunicorn's real access log (through the logger class README
tells practices to use) for requests that really open a link."""

from __future__ import annotations

import http.client
import logging
import re
import ssl
from urllib.parse import quote, unquote, urlsplit

import pytest
from gunicorn.glogging import SafeAtoms

from reconnect_clinic.security.links.logfilter import RedactLinkTokens, redact
from reconnect_clinic.state import db_session
from tests import factories

TOKEN = "nGkd8Zq3-x_9Lw2Pv7Rt0Ys5Bm4Ck1Dj6Fh8Gn3Hq2J"  # the shape of a real one: 43 characters


def escaped(text: str, *, lower: bool = False) -> str:
    """Every character of ``text`` percent-escaped."""
    return "".join(f"%{ord(c):02x}" if lower else f"%{ord(c):02X}" for c in text)


def spellings_of(kind: str, token: str, prefix: str = "/clinic") -> dict[str, str]:
    """The ways a client can write the address of the link ``token`` (``kind`` "i" or
    "h"), each of which the server decodes back to that address."""
    first = escaped(token[0])
    return {
        "plain": f"{prefix}/{kind}/{token}",
        "first character escaped": f"{prefix}/{kind}/{first}{token[1:]}",
        "a middle character escaped, lower-case hex": (
            f"{prefix}/{kind}/{token[:20]}{escaped(token[20], lower=True)}{token[21:]}"
        ),
        "every character escaped": f"{prefix}/{kind}/{escaped(token)}",
        "every character escaped, lower-case hex": f"{prefix}/{kind}/{escaped(token, lower=True)}",
        "the kind escaped": f"{prefix}/{escaped(kind)}/{token}",
        "the slashes escaped": f"{prefix}%2F{kind}%2F{token}",
        "the slashes escaped, lower-case hex": f"{prefix}%2f{kind}%2f{first}{token[1:]}",
        "with a query string": f"{prefix}/{kind}/{token}?utm_source=email&x=1",
        "escaped, with a query string": f"{prefix}/{escaped(kind)}/{first}{token[1:]}?from=mail",
    }


def odd_spellings_of(kind: str, token: str, prefix: str = "/clinic") -> dict[str, str]:
    """Addresses that carry the token but that the server does not take for the link
    (a missing page, a redirect, an unknown token): the token must not be logged all the
    same."""
    first = escaped(token[0])
    return {
        "a trailing slash": f"{prefix}/{kind}/{token}/",
        "trailing characters": f"{prefix}/{kind}/{token}.,;~!*",
        "escaped trailing characters": f"{prefix}/{kind}/{token}%2E%20x",
        "upper-case kind": f"{prefix}/{kind.upper()}/{token}",
        "escaped twice": f"{prefix}/{kind}/%25{first[1:]}{token[1:]}",
        "doubled slashes": f"{prefix}//{kind}//{token}",
        "a dot segment": f"{prefix}/./{kind}/./{token}",
        "a parent segment": f"{prefix}/x/../{kind}/{token}",
        "an escaped question mark first": f"{prefix}/{escaped(kind)}/%3F{token}",
        "an escaped line break after": f"{prefix}/{escaped(kind)}/{token}%0D%0AGET%20/forged",
    }


def shows_token(text: str, token: str) -> bool:
    """Whether ``text`` shows ``token``, or 16 characters of it in a row, in any spelling:
    as written, and decoded as often as it decodes."""
    for _ in range(5):
        for start in range(len(token) - 15):
            if token[start : start + 16] in text:
                return True
        decoded = unquote(text)
        if decoded == text:
            return False
        text = decoded
    return True


@pytest.mark.parametrize("prefix", ["/clinic", "/practice/couples-clinic", ""])
@pytest.mark.parametrize("kind", ["i", "h", "m", "r"])
def test_every_spelling_of_a_link_is_redacted(kind, prefix):
    variants = {**spellings_of(kind, TOKEN, prefix), **odd_spellings_of(kind, TOKEN, prefix)}
    for name, path in variants.items():
        for line in (
            f'127.0.0.1 - - [now] "GET {path} HTTP/1.1" 302 189 "-" "curl/8"',
            f"https://clinic.example.org{path}",  # a full address, e.g. a Referer
            f"/clinic/login?next={path}",
            f"next={quote(path, safe='')}",  # a query string on its own, as gunicorn's %(q)s
        ):
            redacted = redact(line)
            assert not shows_token(redacted, TOKEN), (name, redacted)
            assert "[token]" in redacted, (name, redacted)
            assert "\n" not in redacted, (name, redacted)  # no forged log line
            assert "\r" not in redacted, (name, redacted)


def test_every_link_route_is_redacted(app):
    """Each address a partner's link opens at (intake, homework, measures, rating, and
    any purpose added later) loses its token in the log."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == "reconnect_clinic.link_open"]
    assert len(rules) >= 4
    for rule in rules:
        path = rule.rule.replace("<token>", TOKEN)
        assert not shows_token(redact(f'"GET {path} HTTP/1.1"'), TOKEN), rule.rule


def test_redact_paths():
    token = "Zq3-x_9" * 6
    assert redact(f'"GET /clinic/i/{token} HTTP/1.1" 302') == '"GET /clinic/i/[token] HTTP/1.1" 302'
    assert redact(f"/clinic/h/{token}?x=1") == "/clinic/h/[token]?x=1"
    assert redact(f"/clinic/%69/{token}?x=1") == "/clinic/i/[token]?x=1"
    assert redact(f"/clinic/h/{token}/") == "/clinic/h/[token]/"
    # Other addresses, escaped or not, are logged as they came.
    for kept in (
        "/clinic/intake/abc/about",
        "/clinic/intake/5b7c2a6e-0f43-4a43-9a3e-0c6b8f1d2e4a/about%20us",
        "/clinic/i/short",
        "/clinic/static/clinic.css?v=%32",
        '"GET /clinic/couples/5b7c2a6e-0f43-4a43-9a3e-0c6b8f1d2e4a HTTP/1.1" 200',
    ):
        assert redact(kept) == kept


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


def test_gunicorn_atoms_keep_their_defaults():
    """gunicorn formats its access log from a dict of its own that answers "-" for any
    atom it lacks (a header the request did not send): redacted in place, it still does."""
    token = "A1b2C3d4E5f6G7h8I9j0"
    atoms = SafeAtoms({"h": "10.0.0.1", "r": f"GET /clinic/%69/{token} HTTP/1.1"})
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        '%(h)s "%(r)s" %({x-forwarded-for}i)s',
        (atoms,),
        None,
    )
    RedactLinkTokens().filter(record)
    assert record.getMessage() == '10.0.0.1 "GET /clinic/i/[token] HTTP/1.1" -'


def _raw_get(server, path: str) -> tuple[int, str]:
    """GET ``path`` exactly as written (requests and browsers would tidy its escapes)."""
    address = urlsplit(server.url)
    if address.scheme == "https":
        context = ssl.create_default_context(cafile=server.verify)
        connection = http.client.HTTPSConnection(
            address.hostname, address.port, timeout=60, context=context
        )
    else:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def test_gunicorns_access_log_never_shows_a_token(live):
    server, app = live
    with app.app_context():
        owner = factories.therapist()
        couple = factories.couple(owner)
        tokens = {
            "i": factories.intake_link(owner, couple.partner_a),
            "h": factories.homework_link(owner, couple.partner_b),
        }
        db_session().remove()
    server.start()
    sent = 0
    for kind, token in tokens.items():
        start = "/clinic/intake/" if kind == "i" else "/clinic/homework/"
        for name, path in spellings_of(kind, token).items():
            status, location = _raw_get(server, path)
            # The link opened: the spelling is one the server takes for the link.
            assert (status, urlsplit(location).path[: len(start)]) == (302, start), name
            sent += 1
        odd = odd_spellings_of(kind, token)
        statuses = {name: _raw_get(server, path)[0] for name, path in odd.items()}
        # None opens the link; doubled slashes are sent on to the address without them.
        assert statuses == {name: 308 if name == "doubled slashes" else 404 for name in odd}
        sent += len(odd)
    server.stop()  # every worker has written its lines
    log = server.log_text()
    # Every request is in the log (so the check below is not blind), and no token is.
    access = re.compile(r'"GET /clinic\S*\[token\]\S* HTTP/1\.1" \d{3} ')
    assert len([line for line in log.splitlines() if access.search(line)]) == sent
    for token in tokens.values():
        assert not shows_token(log, token)
