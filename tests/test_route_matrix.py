"""Authorization everywhere, proven by a matrix.

Every route in the app's URL map is requested as each of seven actors: anonymous, the
owning therapist, another therapist, partner A's browser, partner B's browser, a browser
holding an expired link and one holding a revoked link. What each (route, actor) pair
must get is written down once, in ``EXPECTED`` below, and the test fails on any route of
the URL map that the table does not list, so a new route cannot ship unchecked.

The scene every request is made against:

* the owner's couple (partners "Alexandrina" and "Bartholomew"), a signed note on a
  session, a draft session, an assignment for both partners, an assignment for partner A
  only, and a custom exercise of the owner's;
* a second therapist with no cases of their own;
* partner A's and partner B's intake and homework links, each partner's two opened in that
  partner's own browser;
* partner A's earlier intake and homework links, opened in a browser and then expired, and
  partner B's earlier ones, opened in another browser and then revoked.

Addresses are filled from the scene. Partner pages (``/clinic/intake/<link_id>/...``,
``/clinic/homework/<link_id>/...``) name partner A's link, so partner B's browser is the
*wrong partner* there; the expired and revoked browsers ask for their own (dead) links. A
link token (``link_open``) is the actor's own for the partners and the dead links, and
partner A's valid token for everyone else: a token is a bearer credential by design.

Each request starts from the actor's browser as it was when the scene was built (the
session cookie is put back before every request), so one cell cannot change what the
next sees through the browser; data the owner's posts change is dealt with by ordering
(see ``_LATE``). Every post carries the actor's own valid CSRF token and, for partner
pages, the signed ``link_ref`` of the actor's own page, so the outcome shows
authorization, not form protection; ``test_posts_without_csrf_or_link_ref_are_refused``
checks that protection on its own.

Outcomes:
    ok     2xx, or a redirect into the actor's own area (a therapist's pages for a
           therapist; the partner's own link pages for a partner; for ``link_open``, the
           pages of the token's link)
    login  a redirect to the login page (for anonymous and partner browsers, a redirect
           to a therapist page is followed once: ``/`` then leads to the login page)
    404    not found: the page reveals nothing, not even that the record exists
    410    the link is expired or revoked
    400    missing or invalid CSRF token on a post
    405    method not allowed
    exit   a redirect to the practice's quick-exit site (RECONNECT_CLINIC_QUICK_EXIT_URL)
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed

from reconnect_clinic.errors import PARTNER_ENDPOINTS, PARTNER_POST_ENDPOINTS
from reconnect_clinic.homework.operations import save_custom_exercise
from reconnect_clinic.models import (
    ClientLink,
    CustomExercise,
    HomeworkAssignment,
    HomeworkCheckIn,
    IntakeResponse,
    MeasureAdministration,
    SessionNote,
    TherapySession,
    utcnow,
)
from reconnect_clinic.notes.operations import save_note
from reconnect_clinic.state import db_session
from tests.helpers import csrf_from, link_ref_from, login
from tests.test_headers import header_problems

ACTORS = (
    "anonymous",
    "owner",
    "other_therapist",
    "partner_a",
    "partner_b",
    "expired_link",
    "revoked_link",
)
THERAPISTS = ("owner", "other_therapist")
LINK_HOLDERS = ("partner_a", "partner_b", "expired_link", "revoked_link")
# Actors that must never see anything of the couple: the body of every response they get
# is searched for the partners' names, the case label, the note text and the exercise.
MUST_NOT_SEE = ("anonymous", "other_therapist", "partner_b", "expired_link", "revoked_link")

# The table's column headings, for the actors above.
COLUMNS = {
    "anonymous": "anonymous",
    "owner": "owner",
    "other": "other_therapist",
    "partner_a": "partner_a",
    "partner_b": "partner_b",
    "expired": "expired_link",
    "revoked": "revoked_link",
}
assert tuple(COLUMNS.values()) == ACTORS

OUTCOMES = frozenset({"ok", "login", "404", "410", "400", "405", "exit"})


def _table(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """The table below as ``{(endpoint, method): {actor: outcome}}``."""
    lines = [
        line.split()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    header, rows = lines[0], lines[1:]
    assert header == ["endpoint", "method", *COLUMNS], header
    table: dict[tuple[str, str], dict[str, str]] = {}
    for endpoint, method, *outcomes in rows:
        endpoint = f"reconnect_clinic{endpoint}" if endpoint.startswith(".") else endpoint
        assert len(outcomes) == len(ACTORS), endpoint
        assert set(outcomes) <= OUTCOMES, (endpoint, outcomes)
        assert (endpoint, method) not in table, f"{endpoint} {method} is listed twice"
        table[endpoint, method] = {
            COLUMNS[column]: outcome for column, outcome in zip(COLUMNS, outcomes, strict=True)
        }
    return table


# The whole contract: one row per (endpoint, method) the URL map accepts, and what each
# actor must get. A leading "." stands for "reconnect_clinic." (as in url_for).
EXPECTED: dict[tuple[str, str], dict[str, str]] = _table(
    """
endpoint                method anonymous owner other partner_a partner_b expired revoked

# the demo app's own page and the public pages
index                   GET    login     ok    ok    login     login     login   login
.static                 GET    ok        ok    ok    ok        ok        ok      ok
.login                  GET    ok        ok    ok    ok        ok        ok      ok
.login                  POST   ok        ok    ok    ok        ok        ok      ok
# The code step exists only right after a right password: otherwise back to login.
.login_code             GET    login     login login login     login     login   login
.login_code             POST   login     login login login     login     login   login
# Each therapist's own account page (so "other" reaches their own, not the owner's).
.two_factor             GET    login     ok    ok    login     login     login   login
.two_factor             POST   login     ok    ok    login     login     login   login
# New recovery codes, shown once after the post that made them; then the settings page.
.recovery_codes         GET    login     ok    ok    login     login     login   login
.change_password        GET    login     ok    ok    login     login     login   login
.change_password        POST   login     ok    ok    login     login     login   login
# Signing out always ends on the login page, whoever asks.
.logout                 POST   login     login login login     login     login   login
# Typing on a therapist page counts as activity (clinic.js): 204 for a therapist.
.still_here             POST   login     ok    ok    login     login     login   login
# A valid token lets its bearer in (to the token's own pages); a dead one does not.
.link_open              GET    ok        ok    ok    ok        ok        410     410
# "Exit this page" forgets the browser's links and leaves, whoever presses it.
.quick_exit             GET    exit      exit  exit  exit      exit      exit    exit

# a therapist's own pages, no case in the address
.dashboard              GET    login     ok    ok    login     login     login   login
.couple_new             GET    login     ok    ok    login     login     login   login
.couple_new             POST   login     ok    ok    login     login     login   login
.exercises              GET    login     ok    ok    login     login     login   login
.exercise_new           GET    login     ok    ok    login     login     login   login
.exercise_new           POST   login     ok    ok    login     login     login   login
.homework_caseload      GET    login     ok    ok    login     login     login   login
.homework_caseload_csv  GET    login     ok    ok    login     login     login   login

# the owner's custom exercise
.exercise_edit          GET    login     ok    404   login     login     login   login
.exercise_edit          POST   login     ok    404   login     login     login   login
.exercise_delete        POST   login     ok    404   login     login     login   login

# the owner's case
.couple_detail          GET    login     ok    404   login     login     login   login
.couple_edit            GET    login     ok    404   login     login     login   login
.couple_edit            POST   login     ok    404   login     login     login   login
.couple_audit           GET    login     ok    404   login     login     login   login
.couple_export          GET    login     ok    404   login     login     login   login
.intake_answers         GET    login     ok    404   login     login     login   login
.partner_fhir           GET    login     ok    404   login     login     login   login
.risk_assess            POST   login     ok    404   login     login     login   login
.link_create            POST   login     ok    404   login     login     login   login
# The link just made, shown once after the post; then the couple's page.
.link_created           GET    login     ok    404   login     login     login   login
.link_revoke            POST   login     ok    404   login     login     login   login
.homework_assign        GET    login     ok    404   login     login     login   login
.homework_assign        POST   login     ok    404   login     login     login   login
.homework_dismiss       POST   login     ok    404   login     login     login   login
.homework_close         POST   login     ok    404   login     login     login   login
.homework_handout       GET    login     ok    404   login     login     login   login
.homework_csv           GET    login     ok    404   login     login     login   login
.session_new            GET    login     ok    404   login     login     login   login
.session_new            POST   login     ok    404   login     login     login   login
.session_detail         GET    login     ok    404   login     login     login   login
.session_detail         POST   login     ok    404   login     login     login   login
.session_details        POST   login     ok    404   login     login     login   login
.note_addendum          POST   login     ok    404   login     login     login   login
.session_report_preview GET    login     ok    404   login     login     login   login
.session_report_pdf     GET    login     ok    404   login     login     login   login
.progress_report        GET    login     ok    404   login     login     login   login
.intake_summary         GET    login     ok    404   login     login     login   login
# Session ratings (ratings/views.py): rating links for the signed session's partners, and
# the links shown once (nothing kept here: back to the session page).
.rating_links_create    POST   login     ok    404   login     login     login   login
.rating_links_created   GET    login     ok    404   login     login     login   login
# Measures through treatment (measures/views.py): the schedule, sending what is due (none
# is: the scene has no schedule), a new link for partner A's administration, the links
# shown once (nothing kept here: back to the couple's page), the celebration message.
.measures_schedule      GET    login     ok    404   login     login     login   login
.measures_schedule      POST   login     ok    404   login     login     login   login
.measures_send          POST   login     ok    404   login     login     login   login
.measures_relink        POST   login     ok    404   login     login     login   login
.measures_sent          GET    login     ok    404   login     login     login   login
.measures_celebrate     GET    login     ok    404   login     login     login   login
.measures_celebrate     POST   login     ok    404   login     login     login   login
# A queued job's pages (tasks/views.py): the matrix's app has no queue, so no job exists
# and even the owner gets 404; tests/test_tasks.py checks them with a queue and a job.
.task_progress          GET    login     404   404   login     login     login   login
.task_download          GET    login     404   404   login     login     login   login
# A batch of one's own session reports (tasks/views.py): without a queue the page says so
# and a post goes back to it; tests/test_batch_reports.py checks it with a queue.
.session_reports        GET    login     ok    ok    login     login     login   login
.session_reports        POST   login     ok    ok    login     login     login   login

# partner A's pages, through partner A's link
.intake_resume          GET    404       404   404   ok        404       410     410
.intake_page            GET    404       404   404   ok        404       410     410
.intake_page            POST   404       404   404   ok        404       410     410
.intake_done            GET    404       404   404   ok        404       410     410
.homework_mine          GET    404       404   404   ok        404       410     410
.homework_calendar      GET    404       404   404   ok        404       410     410
.homework_check_in      POST   404       404   404   ok        404       410     410
.rating_page            GET    404       404   404   ok        404       410     410
.rating_page            POST   404       404   404   ok        404       410     410
.measures_form          GET    404       404   404   ok        404       410     410
.measures_form          POST   404       404   404   ok        404       410     410
.measures_done          GET    404       404   404   ok        404       410     410
"""
)

# Requests that change what later requests see run last for each actor, in this order:
# opening a link (fine before the owner makes a new one, which revokes it), closing the
# assignment, deleting the exercise, making and revoking links, and signing out.
_LATE = (
    "reconnect_clinic.link_open",
    "reconnect_clinic.homework_dismiss",
    "reconnect_clinic.homework_close",
    "reconnect_clinic.exercise_delete",
    "reconnect_clinic.measures_relink",
    "reconnect_clinic.rating_links_create",
    "reconnect_clinic.link_create",
    "reconnect_clinic.link_revoke",
    "reconnect_clinic.logout",
)
# The owner goes last: their posts change data (a new link revokes partner A's).
ACTOR_ORDER = (
    "anonymous",
    "other_therapist",
    "partner_b",
    "expired_link",
    "revoked_link",
    "partner_a",
    "owner",
)

NAME_A = "Alexandrina"
NAME_B = "Bartholomew"
LABEL = "Lighthouse Keepers"
NOTE_TEXT = "Spoke of the quiet lighthouse winter between them."
DRAFT_TEXT = "Draft: the harbour argument, still unsigned."
EXERCISE_TITLE = "Tidewater evening walk"
SECRETS = (NAME_A, NAME_B, LABEL, NOTE_TEXT, DRAFT_TEXT, EXERCISE_TITLE)
STEP = "improve_communication"


def _covered_endpoint(endpoint: str) -> bool:
    return endpoint.startswith("reconnect_clinic.") or endpoint == "index"


# --- the scene ------------------------------------------------------------------------------


@dataclass
class Holder:
    """A browser holding links: its intake and homework link ids, tokens and page refs."""

    client: FlaskClient
    intake_id: uuid.UUID
    homework_id: uuid.UUID
    intake_token: str
    homework_token: str
    refs: dict[str, str] = field(default_factory=dict)  # purpose -> link_ref of its page

    # The measures link (measures/views.py), made after the other two.
    measures_id: uuid.UUID | None = None
    measures_token: str = ""
    # The rating link for the signed session (ratings/views.py), made last.
    rating_id: uuid.UUID | None = None
    rating_token: str = ""

    def link_id(self, purpose: str) -> uuid.UUID:
        if purpose == "rating" and self.rating_id is not None:
            return self.rating_id
        if purpose == "measures" and self.measures_id is not None:
            return self.measures_id
        return self.intake_id if purpose == "intake" else self.homework_id

    def token(self, purpose: str) -> str:
        if purpose == "rating":
            return self.rating_token
        if purpose == "measures":
            return self.measures_token
        return self.intake_token if purpose == "intake" else self.homework_token

    def area(self) -> tuple[str, ...]:
        return (
            f"/clinic/intake/{self.intake_id}/",
            f"/clinic/homework/{self.homework_id}/",
            f"/clinic/measures/{self.measures_id}/",
            f"/clinic/rating/{self.rating_id}/",
        )


@dataclass
class Scene:
    app: Flask
    couple_id: uuid.UUID
    signed_session_id: uuid.UUID
    draft_session_id: uuid.UUID
    assignment_id: uuid.UUID  # for both partners
    a_only_assignment_id: uuid.UUID
    exercise_id: uuid.UUID
    other_therapist_id: uuid.UUID
    clients: dict[str, FlaskClient]
    holders: dict[str, Holder]
    csrf: dict[str, str]
    cookies: dict[str, str | None] = field(default_factory=dict)

    @property
    def owner_ids(self) -> tuple[str, ...]:
        """Every id of the owner's records: none may appear in another therapist's
        redirect."""
        ids = [
            self.couple_id,
            self.signed_session_id,
            self.draft_session_id,
            self.assignment_id,
            self.a_only_assignment_id,
            self.exercise_id,
        ]
        for holder in self.holders.values():
            ids += [holder.intake_id, holder.homework_id]
        return tuple(str(i) for i in ids)

    def snapshot(self) -> None:
        for actor, client in self.clients.items():
            cookie = client.get_cookie(self.app.config["SESSION_COOKIE_NAME"], domain="clinic.test")
            self.cookies[actor] = cookie.value if cookie is not None else None

    def restore(self, actor: str) -> FlaskClient:
        """The actor's browser as it was when the scene was built."""
        client = self.clients[actor]
        name = self.app.config["SESSION_COOKIE_NAME"]
        value = self.cookies.get(actor)
        if value is None:
            client.delete_cookie(name, domain="clinic.test")
        else:
            client.set_cookie(name, value, domain="clinic.test")
        return client


def _open(client: FlaskClient, token: str, purpose: str) -> ClientLink:
    opened = client.get(f"/clinic/{purpose[0]}/{token}")
    assert opened.status_code == 302, opened.text
    link_id = uuid.UUID(urlsplit(opened.headers["Location"]).path.split("/")[3])
    link = db_session().get(ClientLink, link_id)
    assert link is not None
    return link


def _holder(app: Flask, make: Any, owner: Any, partner: Any) -> Holder:
    """A new browser that opens new intake and homework links for ``partner`` and keeps
    the link reference of each one's page, as a page left open would."""
    intake_token = make.intake_link(owner, partner)
    homework_token = make.homework_link(owner, partner)
    client = app.test_client()
    intake = _open(client, intake_token, "intake")
    homework = _open(client, homework_token, "homework")
    holder = Holder(client, intake.id, homework.id, intake_token, homework_token)
    page = client.get(f"/clinic/intake/{intake.id}/about")
    assert page.status_code == 200, page.status_code
    holder.refs["intake"] = link_ref_from(page.text)
    page = client.get(f"/clinic/homework/{homework.id}/")
    assert page.status_code == 200, page.status_code
    holder.refs["homework"] = link_ref_from(page.text)
    holder.measures_token = make.measures_link(owner, partner)
    holder.measures_id = _open(client, holder.measures_token, "measures").id
    page = client.get(f"/clinic/measures/{holder.measures_id}/")
    assert page.status_code == 200, page.status_code
    holder.refs["measures"] = link_ref_from(page.text)
    signed = db_session().scalar(
        sa.select(TherapySession)
        .where(TherapySession.couple_id == partner.couple_id)
        .order_by(TherapySession.held_on)
        .limit(1)
    )
    holder.rating_token = make.rating_link(owner, signed, partner)
    holder.rating_id = _open(client, holder.rating_token, "rating").id
    page = client.get(f"/clinic/rating/{holder.rating_id}/")
    assert page.status_code == 200, page.status_code
    holder.refs["rating"] = link_ref_from(page.text)
    return holder


def build_scene(app: Flask, make: Any) -> Scene:
    owner = make.therapist(name="Owning Therapist")
    other = make.therapist(name="Other Therapist")
    couple = make.couple(owner, label=LABEL, a=NAME_A, b=NAME_B)
    partner_a, partner_b = couple.partner_a, couple.partner_b
    today = date.today()  # noqa: DTZ011

    signed = make.therapy_session(owner, couple, held_on=today - timedelta(days=7))
    make.signed_note(owner, signed, data=NOTE_TEXT)
    draft = make.therapy_session(owner, couple, held_on=today)
    save_note(
        draft,
        owner,
        template="dap",
        content={
            "sections": {"data": DRAFT_TEXT, "assessment": "", "plan": ""},
            "interventions": [],
            "homework_reviewed": [],
            "homework_assigned": [],
            "risk": {"level": "none", "notes": ""},
        },
        based_on_version=None,
    )
    db_session().commit()
    both = make.assignment(owner, couple, exercise="daily_check_in", assignee="both")
    a_only = make.assignment(owner, couple, exercise="what_i_miss_note", assignee="a")
    exercise = save_custom_exercise(
        owner,
        {
            "step": STEP,
            "title": EXERCISE_TITLE,
            "purpose": "Walk and talk.",
            "mode": "together",
            "frequency": "weekly",
            "times_per_week": 2,
            "duration_minutes": 20,
            "instructions": ["Walk.", "Talk."],
            "reflection_prompts": ["What did you notice?"],
            "therapist_note": "",
            "based_on": None,
        },
    )
    db_session().commit()

    # The dead links are the partners' earlier ones, opened before they died: issuing the
    # current links next revokes them (one way in per partner and purpose).
    expired = _holder(app, make, owner, partner_a)
    revoked = _holder(app, make, owner, partner_b)
    holder_a = _holder(app, make, owner, partner_a)
    holder_b = _holder(app, make, owner, partner_b)
    session = db_session()
    for link_id in (
        expired.intake_id,
        expired.homework_id,
        expired.measures_id,
        expired.rating_id,
    ):
        link = session.get(ClientLink, link_id)
        link.revoked_at = None  # only expired: not also revoked by the newer link
        link.expires_at = utcnow() - timedelta(hours=1)
    for link_id in (
        revoked.intake_id,
        revoked.homework_id,
        revoked.measures_id,
        revoked.rating_id,
    ):
        link = session.get(ClientLink, link_id)
        assert link.revoked_at is not None  # revoked when partner B's new link was made
        link.revoked_at = utcnow() - timedelta(minutes=5)
    session.commit()

    clients = {
        "anonymous": app.test_client(),
        "owner": app.test_client(),
        "other_therapist": app.test_client(),
        "partner_a": holder_a.client,
        "partner_b": holder_b.client,
        "expired_link": expired.client,
        "revoked_link": revoked.client,
    }
    assert login(clients["owner"], owner.email).status_code == 302
    assert login(clients["other_therapist"], other.email).status_code == 302
    csrf = {}
    for actor, client in clients.items():
        page = client.get("/clinic/couples/new" if actor in THERAPISTS else "/clinic/login")
        assert page.status_code == 200, (actor, page.status_code)
        csrf[actor] = csrf_from(page.text)

    scene = Scene(
        app=app,
        couple_id=couple.id,
        signed_session_id=signed.id,
        draft_session_id=draft.id,
        assignment_id=both.id,
        a_only_assignment_id=a_only.id,
        exercise_id=exercise.id,
        other_therapist_id=other.id,
        clients=clients,
        holders={
            "partner_a": holder_a,
            "partner_b": holder_b,
            "expired_link": expired,
            "revoked_link": revoked,
        },
        csrf=csrf,
    )
    scene.snapshot()
    return scene


# --- requests and outcomes ------------------------------------------------------------------


def _partner_purpose(rule_path: str) -> str | None:
    """The link purpose of a partner page, or None for any other page."""
    if rule_path.startswith("/clinic/intake/<"):
        return "intake"
    if rule_path.startswith("/clinic/measures/<"):
        return "measures"
    if rule_path.startswith("/clinic/rating/<"):
        return "rating"
    if rule_path.startswith("/clinic/homework/<"):
        return "homework"
    return None


@dataclass(frozen=True)
class Cell:
    endpoint: str
    method: str
    rule: str
    actor: str
    url: str
    data: dict[str, str] | None
    area: tuple[str, ...] | None  # where an "ok" redirect may lead, for link holders


def build_cell(scene: Scene, rule: Any, method: str, actor: str) -> Cell:
    path = rule.rule
    purpose = _partner_purpose(path) or (rule.defaults or {}).get("purpose", "intake")
    holder = scene.holders.get(actor)
    target_a = scene.holders["partner_a"]
    # On partner pages the address names partner A's link, except for the dead-link
    # browsers, which ask for their own. Partner B is then the wrong partner.
    link_holder = holder if actor in ("expired_link", "revoked_link") else target_a
    # A token is the actor's own when it holds links, else partner A's.
    token_holder = holder if holder is not None else target_a
    values: dict[str, Any] = dict(rule.defaults or {})
    for argument in sorted(rule.arguments - set(values)):
        if argument == "couple_id":
            values[argument] = scene.couple_id
        elif argument == "session_id":
            values[argument] = scene.signed_session_id
        elif argument == "assignment_id":
            values[argument] = scene.assignment_id
        elif argument == "exercise_id":
            values[argument] = scene.exercise_id
        elif argument == "link_id":
            values[argument] = link_holder.link_id(purpose)
        elif argument == "role":
            values[argument] = "a"
        elif argument == "page":
            values[argument] = "about"
        elif argument == "purpose":
            values[argument] = "intake"
        elif argument == "step":
            values[argument] = STEP
        elif argument == "token":
            values[argument] = token_holder.token(purpose)
        elif argument == "filename":
            values[argument] = "clinic.css"
        elif argument == "task_id":
            values[argument] = uuid.UUID(int=19)
        elif argument == "administration_id":
            # Partner A's open administration (the owner's new link for it keeps its id).
            partner_a = db_session().get(ClientLink, target_a.link_id("measures")).partner_id
            values[argument] = db_session().scalar(
                sa.select(MeasureAdministration.id)
                .where(MeasureAdministration.partner_id == partner_a)
                .order_by(MeasureAdministration.due_on.desc())
                .limit(1)
            )
        else:
            raise AssertionError(
                f"{rule.endpoint} ({path}) has an argument {argument!r} this test cannot "
                "fill: teach build_cell about it"
            )
    built = rule.build(values, append_unknown=False)
    assert built is not None, (rule.endpoint, values)
    url = built[1]

    data = None
    if method == "POST":
        data = {"csrf_token": scene.csrf[actor]}
        if _partner_purpose(path) and holder is not None:
            data["link_ref"] = holder.refs[purpose]
            data["action"] = "save"

    area = None
    if rule.endpoint == "reconnect_clinic.link_open":
        area = token_holder.area()
    elif holder is not None:
        area = holder.area()
    return Cell(rule.endpoint, method, path, actor, url, data, area)


_PARTNER_PAGE = re.compile(
    r"^/clinic/(intake|homework|measures|rating)/[0-9a-f-]{36}/|^/clinic/[ihmr]/"
)


def _is_partner_page(path: str) -> bool:
    """Whether a concrete address is a partner's page (or a link to open)."""
    return bool(_PARTNER_PAGE.match(path))


def _is_therapist_page(path: str) -> bool:
    if path == "/":
        return True
    return (
        path.startswith("/clinic/")
        and path != "/clinic/login"
        and not path.startswith("/clinic/static/")
        and not _is_partner_page(path)
    )


def classify(scene: Scene, cell: Cell, response: Any, client: FlaskClient) -> tuple[str, list[Any]]:
    """The outcome of ``response`` for the cell's actor, and every response it looked at
    (a redirect is followed once, see the module's docstring)."""
    seen = [response]
    status = response.status_code
    if 200 <= status < 300:
        return "ok", seen
    if status in (301, 302, 303, 307, 308):
        if response.headers["Location"] == scene.app.config["RECONNECT_CLINIC_QUICK_EXIT_URL"]:
            return "exit", seen
        target = urlsplit(response.headers["Location"]).path
        if target == "/clinic/login":
            return "login", seen
        if cell.area is not None:
            if target.startswith(cell.area):
                return "ok", seen
        elif (
            cell.actor in THERAPISTS
            and _is_therapist_page(target)
            # another therapist is never sent to one of the owner's records
            and (cell.actor == "owner" or not any(i in target for i in scene.owner_ids))
        ):
            return "ok", seen
        if cell.method == "GET" and cell.actor not in THERAPISTS and _is_therapist_page(target):
            followed = client.get(response.headers["Location"])
            outcome, more = classify(scene, cell, followed, client)
            if outcome in ("login", "404"):
                return outcome, seen + more
            return f"redirect to {target}, then {outcome}", seen + more
        return f"redirect to {target}", seen
    return str(status), seen


def _rules(app: Flask) -> list[Any]:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if _covered_endpoint(rule.endpoint)),
        key=lambda rule: (rule.endpoint, rule.rule),
    )


def _methods(rule: Any) -> list[str]:
    return sorted(rule.methods & {"GET", "POST"})


def _late(endpoint: str) -> int:
    return _LATE.index(endpoint) + 1 if endpoint in _LATE else 0


# --- the matrix -----------------------------------------------------------------------------


def test_every_route_is_in_the_table(app):
    in_map = {(rule.endpoint, method) for rule in _rules(app) for method in _methods(rule)}
    missing = sorted(in_map - set(EXPECTED))
    assert not missing, (
        "routes with no expected outcome in EXPECTED (tests/test_route_matrix.py); add a row "
        f"for each, saying what every actor must get: {missing}"
    )
    stale = sorted(set(EXPECTED) - in_map)
    assert not stale, f"EXPECTED lists routes the app no longer has: {stale}"
    for key, row in EXPECTED.items():
        assert tuple(row) == ACTORS, key
    # Every other method on every route is refused before any view runs.
    assert all(rule.methods - {"HEAD", "OPTIONS"} <= {"GET", "POST"} for rule in _rules(app))


def test_partner_endpoints_are_the_partner_rows():
    """The clinic withholds the Referer on the pages it lists as partners' (errors.py):
    they are the rows only a partner's own link reaches, the links that open them, and
    the partners' "Exit this page"."""
    partner_rows = {
        endpoint
        for (endpoint, _), row in EXPECTED.items()
        if row["partner_a"] == "ok" and row["owner"] == "404"
    }
    assert partner_rows | {"reconnect_clinic.link_open", "reconnect_clinic.quick_exit"} == (
        PARTNER_ENDPOINTS
    )


def _referrer_policy(cell: Cell) -> str:
    """Partners' pages (and the links that open them) and the pages that are nobody's
    send no Referer; therapists' pages let the browser send it back to the clinic."""
    if _partner_purpose(cell.rule) or cell.endpoint in (
        "reconnect_clinic.link_open",
        "reconnect_clinic.quick_exit",
        "reconnect_clinic.static",
        "index",
    ):
        return "no-referrer"
    return "same-origin"


def test_route_matrix(app, make):
    started = time.perf_counter()
    scene = build_scene(app, make)
    rules = _rules(app)
    missing = sorted({(rule.endpoint, m) for rule in rules for m in _methods(rule)} - set(EXPECTED))
    assert not missing, f"routes missing from EXPECTED: {missing}"

    cells = [
        build_cell(scene, rule, method, actor)
        for actor in ACTOR_ORDER
        for rule in rules
        for method in _methods(rule)
    ]
    cells.sort(key=lambda c: (ACTOR_ORDER.index(c.actor), _late(c.endpoint)))

    failures: list[str] = []
    owner_bodies: list[str] = []
    for cell in cells:
        client = scene.restore(cell.actor)
        if cell.method == "GET":
            response = client.get(cell.url)
        else:
            response = client.post(cell.url, data=cell.data)
        outcome, responses = classify(scene, cell, response, client)
        expected = EXPECTED[(cell.endpoint, cell.method)][cell.actor]
        where = f"{cell.method} {cell.url} [{cell.endpoint}] as {cell.actor}"
        if outcome != expected:
            failures.append(f"{where}: expected {expected}, got {outcome}")
        # Whatever the outcome, the response carries the clinic's security headers.
        static = cell.endpoint == "reconnect_clinic.static"
        problems = header_problems(response, referrer_policy=_referrer_policy(cell), static=static)
        if problems:
            failures.append(f"{where}: headers {problems}")
        if cell.actor == "owner" and response.mimetype.startswith("text"):
            owner_bodies.append(response.get_data(as_text=True))
        if cell.actor in MUST_NOT_SEE:
            for seen in responses:
                body = seen.get_data(as_text=True) if seen.mimetype.startswith("text") else ""
                leaked = [s for s in SECRETS if s in body]
                if leaked:
                    failures.append(f"{where}: the response shows {leaked}")

    # Methods a route does not take are refused (405) for everyone, before any view,
    # unless another route takes that method at the same address (POST .../intake/<id>/done
    # is intake_page's page "done"): that route's own row then covers it.
    anonymous = scene.restore("anonymous")
    adapter = app.url_map.bind("clinic.test")
    for rule in rules:
        for method in sorted({"GET", "POST"} - rule.methods):
            cell = build_cell(scene, rule, method, "anonymous")
            try:
                other_endpoint, _ = adapter.match(cell.url, method=method)
            except MethodNotAllowed:
                other_endpoint = None
            if other_endpoint is not None:
                assert (other_endpoint, method) in EXPECTED, (cell.url, other_endpoint)
                continue
            refused = anonymous.open(cell.url, method=method)
            if refused.status_code != 405:
                failures.append(
                    f"{method} {cell.url} [{rule.endpoint}]: expected 405, got "
                    f"{refused.status_code}"
                )
            # No route matched: the headers come from the clinic's app-level hook.
            if problems := header_problems(refused, referrer_policy="no-referrer"):
                failures.append(f"{method} {cell.url} [{rule.endpoint}]: headers {problems}")

    # The search for leaks looks for text the pages really show: the owner sees all of it
    # (the draft's text is only on the draft's page, see test_a_draft_note_is_the_owners_alone).
    for secret in SECRETS:
        if secret != DRAFT_TEXT and not any(secret in body for body in owner_bodies):
            failures.append(f"no page of the owner's shows {secret!r}: the leak check is blind")

    endpoints = {rule.endpoint for rule in rules}
    pairs = len(cells)
    summary = (
        f"route matrix: {len(rules)} routes ({len(endpoints)} endpoints, "
        f"{len(EXPECTED)} endpoint/method rows) x {len(ACTORS)} actors = {pairs} "
        f"(route, method, actor) requests, in {time.perf_counter() - started:.1f} s"
    )
    print(f"\n{summary}")
    assert not failures, summary + "\n" + "\n".join(failures)


# --- form protection, the wrong partner, drafts -----------------------------------------------


def test_posts_without_csrf_or_link_ref_are_refused(app, make):
    """The matrix posts with valid tokens; here every post goes without one and is refused
    before it changes anything: 400 for a therapist's form, and for a partner's page (which
    carries a signed link reference instead) the same page a wrong link gets."""
    scene = build_scene(app, make)
    holder_a = scene.holders["partner_a"]
    rules = [rule for rule in _rules(app) if "POST" in rule.methods]
    assert rules
    # The partner pages that post are exactly those the CSRF error handler hands to their view.
    partner_posts = {rule.endpoint for rule in rules if _partner_purpose(rule.rule) is not None}
    assert partner_posts == PARTNER_POST_ENDPOINTS
    failures = []
    for rule in sorted(rules, key=lambda r: _late(r.endpoint)):
        partner_page = _partner_purpose(rule.rule) is not None
        actor = "partner_a" if partner_page else "owner"
        cell = build_cell(scene, rule, "POST", actor)
        client = scene.restore(actor)
        without = {
            k: v for k, v in (cell.data or {}).items() if k not in ("csrf_token", "link_ref")
        }
        forged = dict(without, csrf_token="forged", link_ref="forged")
        for data in (without, forged):
            got = client.post(cell.url, data=data).status_code
            want = 404 if partner_page else 400
            if got != want:
                failures.append(
                    f"POST {cell.url} [{rule.endpoint}] {sorted(data)}: {got} != {want}"
                )
    # Nothing was changed by any of them.
    session = db_session()
    session.expire_all()
    assert session.get(ClientLink, holder_a.intake_id).revoked_at is None
    # Four browsers, each with an intake, a homework, a measures and a rating link.
    assert session.scalar(sa.select(sa.func.count()).select_from(ClientLink)) == 16
    assert session.get(HomeworkAssignment, scene.assignment_id).closed_on is None
    assert session.get(CustomExercise, scene.exercise_id).deleted_at is None
    assert session.scalar(sa.select(sa.func.count()).select_from(HomeworkCheckIn)) == 0
    pages = session.scalars(sa.select(IntakeResponse)).all()
    assert all(not response.pages for response in pages)
    assert scene.restore("owner").get("/clinic/").status_code == 200  # still signed in
    assert not failures, "\n".join(failures)


def test_each_partner_reaches_only_their_own(app, make):
    """Partner B's own link works (the matrix shows it cannot reach partner A's), and it
    still cannot reach homework given to partner A alone; nor A's link reach B's pages."""
    scene = build_scene(app, make)
    a, b = scene.holders["partner_a"], scene.holders["partner_b"]
    browser_b = scene.restore("partner_b")
    assert browser_b.get(f"/clinic/intake/{b.intake_id}/").status_code == 302
    assert browser_b.get(f"/clinic/intake/{b.intake_id}/about").status_code == 200
    mine = browser_b.get(f"/clinic/homework/{b.homework_id}/")
    assert mine.status_code == 200
    assert str(scene.assignment_id) in mine.text
    assert str(scene.a_only_assignment_id) not in mine.text
    shared = f"/clinic/homework/{b.homework_id}/{scene.assignment_id}"
    assert browser_b.get(f"{shared}.ics").status_code == 200
    a_only = f"/clinic/homework/{b.homework_id}/{scene.a_only_assignment_id}"
    assert browser_b.get(f"{a_only}.ics").status_code == 404
    check_in = {
        "link_ref": b.refs["homework"],
        "completion": "done",
        "client_key": "k" * 32,
        "reflection": "Partner B writing to A's homework",
    }
    assert browser_b.post(f"{a_only}/check-in", data=check_in).status_code == 404
    # Partner A's reference on partner B's address is refused too.
    stolen = dict(check_in, link_ref=a.refs["homework"])
    assert browser_b.post(f"{shared}/check-in", data=stolen).status_code == 404
    assert db_session().scalar(sa.select(sa.func.count()).select_from(HomeworkCheckIn)) == 0
    # And the other way round: partner A's browser cannot read partner B's pages.
    browser_a = scene.restore("partner_a")
    for url in (
        f"/clinic/intake/{b.intake_id}/",
        f"/clinic/intake/{b.intake_id}/about",
        f"/clinic/homework/{b.homework_id}/",
        f"{shared}.ics",
    ):
        response = browser_a.get(url)
        assert response.status_code == 404, url
        assert NAME_B not in response.text


def test_a_draft_note_is_the_owners_alone(app, make):
    """The matrix uses the signed session; a draft is writable, so another therapist's
    save must be refused and change nothing."""
    scene = build_scene(app, make)
    base = f"/clinic/couples/{scene.couple_id}/sessions/{scene.draft_session_id}"
    other = scene.restore("other_therapist")
    note_post = {
        "csrf_token": scene.csrf["other_therapist"],
        "section_data": "Overwritten by another therapist",
        "section_assessment": "",
        "section_plan": "",
        "risk_level": "none",
        "risk_notes": "",
        "action": "sign",
        "version": "1",
    }
    details_post = {
        "csrf_token": scene.csrf["other_therapist"],
        "held_on": "2020-01-01",
        "duration_minutes": "5",
        "format": "video",
        "attendance": "both",
    }
    for method, url, data in (
        ("GET", base, None),
        ("POST", base, note_post),
        ("POST", f"{base}/details", details_post),
        ("GET", f"{base}/report", None),
        ("GET", f"{base}/report.pdf", None),
    ):
        response = other.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
        assert DRAFT_TEXT not in response.get_data(as_text=True)
    session = db_session()
    session.expire_all()
    note = session.scalar(
        sa.select(SessionNote).where(SessionNote.therapy_session_id == scene.draft_session_id)
    )
    assert note.status == "draft"
    assert note.content["sections"]["data"] == DRAFT_TEXT
    owner = scene.restore("owner").get(base)
    assert owner.status_code == 200
    assert DRAFT_TEXT in owner.text


def test_another_therapists_own_case_does_not_unlock_the_owners_records(app, make):
    """The matrix puts the owner's case in every address. Here the other therapist puts
    their own case there, with the owner's session, assignment and link ids after it (and
    the owner's custom exercise in the assign form): every one is still not found."""
    from reconnect_clinic.models import NoteAddendum, Therapist

    scene = build_scene(app, make)
    other = db_session().get(Therapist, scene.other_therapist_id)
    theirs = make.couple(other, label="Their own case", a="Cassius", b="Delphine")
    client = scene.restore("other_therapist")
    csrf = scene.csrf["other_therapist"]
    failures = []
    checked = 0
    for rule in _rules(app):
        if "couple_id" not in rule.arguments or not (
            rule.arguments & {"session_id", "assignment_id", "link_id"}
        ):
            continue
        for method in _methods(rule):
            cell = build_cell(scene, rule, method, "other_therapist")
            url = cell.url.replace(str(scene.couple_id), str(theirs.id))
            response = client.open(
                url, method=method, data={"csrf_token": csrf} if method == "POST" else None
            )
            checked += 1
            body = response.get_data(as_text=True) if response.mimetype.startswith("text") else ""
            leaked = [secret for secret in SECRETS if secret in body]
            if response.status_code != 404 or leaked:
                failures.append(
                    f"{method} {url} [{rule.endpoint}]: {response.status_code} {leaked}"
                )
    assert checked >= 9, checked

    # The owner's custom exercise is not theirs to read or to give.
    assign_url = f"/clinic/couples/{theirs.id}/homework/new"
    page = client.get(f"{assign_url}?exercise=custom:{scene.exercise_id}")
    assert page.status_code == 200
    assert EXERCISE_TITLE not in page.text
    today = date.today()  # noqa: DTZ011
    posted = client.post(
        assign_url,
        data={
            "csrf_token": csrf,
            "exercise": f"custom:{scene.exercise_id}",
            "assignee": "both",
            "starts_on": today.isoformat(),
            "due_on": (today + timedelta(days=7)).isoformat(),
            "frequency": "once",
        },
    )
    assert posted.status_code == 200
    assert EXERCISE_TITLE not in posted.text

    session = db_session()
    session.expire_all()
    assert session.get(ClientLink, scene.holders["partner_a"].intake_id).revoked_at is None
    assert session.get(HomeworkAssignment, scene.assignment_id).closed_on is None
    assert session.scalar(sa.select(sa.func.count()).select_from(NoteAddendum)) == 0
    assert not session.scalars(
        sa.select(HomeworkAssignment).where(HomeworkAssignment.couple_id == theirs.id)
    ).all()
    assert not failures, "\n".join(failures)
