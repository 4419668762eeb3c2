"""Every page a therapist and both partners see, checked with axe-core in Debian's Chromium:
no critical or serious violation on any of them, and no attribute that reads "None".

One server, one browser and one case for the whole module: a therapist signs in and walks
every page of their workspace (with a few forms sent empty, so the pages with errors beside
their fields are checked too); each partner opens their private links and walks the intake
page by page, the done page, the homework page and a broken link's page. Every GET route
of the URL map is either walked (the walk records each address it opened) or excused below
with its reason, so a new page cannot ship unchecked.

axe-core is the npm package pinned in tests/browser_assets/package-lock.json, installed
by ``make test`` (``npm ci --prefix tests/browser_assets``). Skipped, with the reason,
where Chromium, Playwright or that install is missing.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from tests.helpers import CHROMIUM, answer_every_question

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "browser_assets" / "node_modules" / "axe-core" / "axe.min.js"

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
if not AXE.exists():
    pytest.skip(
        f"axe-core is not installed at {AXE.relative_to(ROOT)}: run `make browser-assets` "
        "(npm ci --prefix tests/browser_assets; needs Node.js and npm)",
        allow_module_level=True,
    )

from tests import factories  # noqa: E402 - after the skips

# What fails the walk: axe-core's two highest impacts.
BLOCKING = ("critical", "serious")

# GET routes the walk does not open in the browser, each with its reason. Every other GET
# route of the URL map must be walked.
EXCUSED = {
    "/clinic/static/<path:filename>": "the clinic's CSS and JS files, not pages",
    "/static/<path:filename>": "the host app's static files, not pages",
    "/clinic/couples/<uuid:couple_id>/export.zip": "a file download (ZIP)",
    "/clinic/tasks/<uuid:task_id>/download": "a queued job's file download (a ZIP or PDF)",
    "/clinic/couples/<uuid:couple_id>/homework.csv": "a file download (CSV)",
    "/clinic/homework.csv": "a file download (CSV)",
    "/clinic/couples/<uuid:couple_id>/homework/<uuid:assignment_id>/handout.pdf": (
        "a file download (PDF)"
    ),
    "/clinic/couples/<uuid:couple_id>/sessions/<uuid:session_id>/report.pdf": (
        "a file download (PDF)"
    ),
    "/clinic/couples/<uuid:couple_id>/progress-report.pdf": "a file download (PDF)",
    "/clinic/couples/<uuid:couple_id>/intake-summary.pdf": "a file download (PDF)",
    "/clinic/couples/<uuid:couple_id>/partners/<role>/fhir.json": (
        "a file download (FHIR JSON for an EHR, not a page: nothing for axe to read)"
    ),
    "/clinic/homework/<uuid:link_id>/<uuid:assignment_id>.ics": "a calendar file download",
    "/clinic/leave": (
        "a redirect to the practice's neutral quick-exit site, outside the clinic (the walk "
        "checks the redirect, and the Exit button on every partner page)"
    ),
}

# axe.run's answer cut down to what a failure message needs.
_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ')),
  }));
}"""
AXE_VERSION = json.loads((AXE.parent / "package.json").read_text())["version"]
_ATTRIBUTE_NONE = re.compile(r'[\w:.-]+="None"')


@dataclass
class Walk:
    base: str
    # (where, rule id, impact, help, nodes) for every violation axe reported
    violations: list[tuple[str, str, str, str, list[str]]] = field(default_factory=list)
    none_attributes: list[str] = field(default_factory=list)
    opened: set[str] = field(default_factory=set)  # paths the walk opened
    checked: list[str] = field(default_factory=list)  # one entry per page axe checked
    errors: list[str] = field(default_factory=list)  # pages showing errors beside fields
    seconds: list[tuple[float, str]] = field(default_factory=list)  # axe's time per page

    def goto(self, page: Any, path: str, where: str | None = None) -> None:
        response = page.goto(f"{self.base}{path}")
        assert response is not None, path
        self.opened.add(urlsplit(path).path)
        self.check(page, where or path)

    def check(self, page: Any, where: str) -> None:
        """Run axe-core on the page on screen, and look for attributes reading "None"."""
        page.wait_for_load_state("load")
        self.opened.add(urlsplit(page.url).path)
        where = f"{where} ({urlsplit(page.url).path})"
        heading = page.locator("h1").first
        self.checked.append(f"{where}: {heading.inner_text() if heading.count() else None!r}")
        started = time.perf_counter()
        # What a click would unfold is checked too: every <details> opened.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        html = page.content()
        if 'aria-invalid="true"' in html:
            self.errors.append(where)
        self.none_attributes += [f"{where}: {hit}" for hit in _ATTRIBUTE_NONE.findall(html)]
        page.add_script_tag(path=str(AXE))
        for violation in page.evaluate(_RUN_AXE):
            self.violations.append(
                (
                    where,
                    violation["id"],
                    violation["impact"] or "",
                    violation["help"],
                    violation["nodes"],
                )
            )
        self.seconds.append((time.perf_counter() - started, where))

    def blocking(self) -> list[tuple[str, str, str, str, list[str]]]:
        return [v for v in self.violations if v[2] in BLOCKING]


def _submit(page: Any, name: str | re.Pattern[str]) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).first.click()


def _sign_in(walk: Walk, page: Any, email: str, *, check: bool = False) -> None:
    if check:
        walk.goto(page, "/clinic/login", "login")
        page.fill("#email", email)
        page.fill("#password", "not the password")
        _submit(page, "Sign in")
        walk.check(page, "login, wrong password")
    else:
        page.goto(f"{walk.base}/clinic/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    _submit(page, "Sign in")


def _walk_intake(walk: Walk, page: Any, token: str, who: str, *, with_errors: bool) -> None:
    """A partner opens their intake link and answers it page by page, each page checked
    (and, ``with_errors``, each page sent empty first, to check it with its errors)."""
    path = f"/clinic/i/{token}"
    page.goto(f"{walk.base}{path}")
    walk.opened.add(path)
    walk.opened.add(re.sub(r"/[^/]+$", "/", urlsplit(page.url).path))  # the resume address
    sent_empty: set[str] = set()
    for _ in range(20):
        if "/done" in page.url:
            break
        title = page.locator("h1").first.inner_text()
        if title not in sent_empty:
            walk.check(page, f"{who}: intake page {title!r}")
        if with_errors and title not in sent_empty:
            sent_empty.add(title)
            _submit(page, re.compile("Save and continue|Submit my answers"))
            if not page.locator(".error-summary").count():
                continue  # the page took no answers: the next one is on screen
            walk.check(page, f"{who}: intake page {title!r} sent empty")
        answer_every_question(page)
        for box in page.locator("textarea").all():
            box.fill(f"Written by {who} in the accessibility walk.")
        _submit(page, re.compile("Save and continue|Submit my answers"))
    assert "/done" in page.url, page.url
    walk.check(page, f"{who}: intake done")


def _walk_homework(walk: Walk, page: Any, token: str, who: str) -> None:
    path = f"/clinic/h/{token}"
    page.goto(f"{walk.base}{path}")
    walk.opened.add(path)
    walk.check(page, f"{who}: homework")
    page.get_by_label("Done").first.check()
    page.locator("textarea[name=reflection]").first.fill(f"{who} tried it this week.")
    _submit(page, "Save check-in")
    walk.check(page, f"{who}: homework after a check-in")


def _walk_measures(walk: Walk, page: Any, token: str, who: str) -> None:
    """A partner opens their measures link, sends it empty (the errors beside each
    question), answers it, and sees it done (measures/views.py)."""
    path = f"/clinic/m/{token}"
    page.goto(f"{walk.base}{path}")
    walk.opened.add(path)
    walk.check(page, f"{who}: measures")
    _submit(page, "Send my answers")
    walk.check(page, f"{who}: measures sent empty")
    answer_every_question(page)
    _submit(page, "Send my answers")
    assert "/done" in page.url, page.url
    walk.check(page, f"{who}: measures done")


def _walk_rating(walk: Walk, page: Any, token: str, who: str) -> None:
    """A partner opens their session rating link, sends it empty (the errors beside each
    question), answers it, and sees the thanks (ratings/views.py)."""
    path = f"/clinic/r/{token}"
    page.goto(f"{walk.base}{path}")
    walk.opened.add(path)
    walk.check(page, f"{who}: session rating")
    _submit(page, "Send my answers")
    walk.check(page, f"{who}: session rating sent empty")
    answer_every_question(page)
    _submit(page, "Send my answers")
    walk.check(page, f"{who}: session rating saved")


def _therapist_pages(ids: dict[str, Any]) -> list[tuple[str, str]]:
    couple = f"/clinic/couples/{ids['couple']}"
    signed = f"{couple}/sessions/{ids['signed']}"
    return [
        ("/", "the app's own page (to the dashboard)"),
        ("/clinic/", "dashboard"),
        ("/clinic/?show=attention", "dashboard, what needs you"),
        ("/clinic/?show=closed", "dashboard, closed cases (none)"),
        ("/clinic/couples/new", "new case"),
        (couple, "couple page"),
        (f"{couple}/edit", "edit case"),
        (f"{couple}/audit", "case audit"),
        (f"{couple}/partners/a/intake", "partner A's intake answers"),
        (f"{couple}/partners/b/intake", "partner B's intake answers"),
        (f"{couple}/homework/new", "assign homework"),
        (f"{couple}/homework/new?exercise=library:three_feeling_notes", "assign, chosen"),
        (f"{couple}/sessions/new", "new session"),
        (signed, "signed session note"),
        (f"{couple}/sessions/{ids['draft']}", "draft session note"),
        (f"{signed}/report", "session report preview"),
        (f"{couple}/progress-report", "progress report preview"),
        (f"{couple}/intake-summary", "intake summary preview"),
        (f"{couple}/measures/schedule", "measures schedule"),
        (f"{couple}/celebrate", "celebrate progress"),
        ("/clinic/homework", "homework caseload"),
        ("/clinic/session-reports", "print session reports (no queue)"),
        ("/clinic/exercises", "exercises"),
        ("/clinic/exercises/new", "new exercise"),
        (f"/clinic/exercises/{ids['exercise']}/edit", "edit exercise"),
        ("/clinic/account/password", "change password"),
        ("/clinic/account/two-factor", "two-factor, off"),
    ]


# Forms sent empty, for the page with errors beside the fields: (path, button, where).
_EMPTY_FORMS = (
    ("/clinic/couples/new", "Open case", "new case sent empty"),
    ("/clinic/exercises/new", "Save exercise", "new exercise sent empty"),
    ("/clinic/account/password", "Change password", "change password sent empty"),
    (None, "Assign", "assign homework sent empty"),
)


def _build_case(app: Any) -> dict[str, Any]:
    """A case in the middle of treatment: links for both partners, homework for both,
    a signed note and a draft, and a custom exercise; a second therapist for the
    two-factor pages."""
    from reconnect_clinic.homework.operations import save_custom_exercise
    from reconnect_clinic.measures.operations import save_schedule
    from reconnect_clinic.state import db_session

    with app.app_context():
        owner = factories.therapist(email="axe-owner@example.org", name="Axe Owner")
        factories.therapist(email="axe-2fa@example.org", name="Axe Second")
        couple = factories.couple(owner, label="Axe couple", a="Aino", b="Bruno")
        signed = factories.therapy_session(owner, couple)
        factories.signed_note(owner, signed)
        draft = factories.therapy_session(owner, couple)
        factories.assignment(owner, couple, exercise="daily_check_in", assignee="both")
        exercise = save_custom_exercise(
            owner,
            {
                "step": "improve_communication",
                "title": "Axe evening walk",
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
        ids = {
            "couple": couple.id,
            "signed": signed.id,
            "draft": draft.id,
            "exercise": exercise.id,
            "intake_a": factories.intake_link(owner, couple.partner_a),
            "intake_b": factories.intake_link(owner, couple.partner_b),
            "homework_a": factories.homework_link(owner, couple.partner_a),
            "homework_b": factories.homework_link(owner, couple.partner_b),
            # Measures once, from today: partner A's link is made here, partner B's is
            # due, for the therapist to send (measures/views.py).
            "measures_a": factories.measures_link(owner, couple.partner_a),
            # Partner B's rating of the signed session; the therapist sends the draft
            # session's rating links in the walk (ratings/views.py).
            "rating_b": factories.rating_link(owner, signed, couple.partner_b),
        }
        save_schedule(
            couple,
            owner,
            instruments=["csi4", "phq9"],
            cadence="once",
            every_weeks=None,
            starts_on=date.today(),  # noqa: DTZ011 - as the factories' dates
        )
        db_session().commit()
        db_session().remove()
    return ids


def _walk_queued_export(walk: Walk, page: Any, app: Any, couple_id: Any) -> None:
    """The progress page of a record export on the real Redis (tests/test_tasks.py), in a
    queue of its own; without a Redis the walk misses the page and says so below."""
    import uuid

    try:
        import redis
        from rq import SimpleWorker

        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except Exception:  # no RQ or no Redis here: the coverage check names the page
        return
    from reconnect_clinic.tasks import jobs, queue

    config = {
        "RECONNECT_CLINIC_TASK_QUEUE": "redis://127.0.0.1:6379/0",
        "RECONNECT_CLINIC_TASK_QUEUE_NAME": f"reconnect-clinic-axe-{uuid.uuid4().hex[:8]}",
    }
    kept = {key: app.config[key] for key in config}
    app.config.update(config)
    jobs.use_app(app)
    try:
        page.goto(f"{walk.base}/clinic/couples/{couple_id}/export.zip")
        walk.check(page, "a record export, waiting for a worker")
        with app.app_context():
            rq_queue = queue.get_queue()
            SimpleWorker([rq_queue], connection=rq_queue.connection).work(
                burst=True, logging_level="WARNING"
            )
            page.locator("[data-task-download]").wait_for()
            walk.check(page, "a record export, ready")
            for job_id in rq_queue.finished_job_registry.get_job_ids():
                rq_queue.fetch_job(job_id).delete()
            rq_queue.delete(delete_jobs=True)
    finally:
        app.config.update(kept)


@pytest.fixture(scope="module")
def walk(server: tuple[str, Any]) -> Iterator[Walk]:
    import pyotp

    base, app = server
    ids = _build_case(app)
    result = Walk(base)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )

        def fresh(**options: Any) -> Any:
            # The clinic's CSP forbids inline script, and Playwright injects axe-core as
            # one: the check sets the CSP aside (it changes nothing that axe looks at).
            return browser.new_context(bypass_csp=True, **options).new_page()

        # Each partner, in a browser of their own: A on a phone, B on a desktop.
        for who, options, with_errors in (
            ("partner A", {"viewport": {"width": 390, "height": 844}, "is_mobile": True}, True),
            ("partner B", {"viewport": {"width": 1200, "height": 900}}, False),
        ):
            page = fresh(**options)
            letter = who[-1].lower()
            _walk_intake(result, page, ids[f"intake_{letter}"], who, with_errors=with_errors)
            _walk_homework(result, page, ids[f"homework_{letter}"], who)
            if who == "partner A":
                _walk_measures(result, page, ids["measures_a"], who)
            if who == "partner B":
                _walk_rating(result, page, ids["rating_b"], who)
            if who == "partner B":
                # The homework page left open past the idle limit for links.
                key = "RECONNECT_CLINIC_LINK_IDLE_TIMEOUT"
                kept, app.config[key] = app.config[key], 1
                try:
                    time.sleep(1.5)
                    page.reload()
                    result.check(page, f"{who}: homework past the idle limit")
                finally:
                    app.config[key] = kept
            # The quick exit leaves for the practice's neutral site.
            left = page.request.get(f"{base}/clinic/leave", max_redirects=0)
            assert left.status == 302, left.status
            page.context.close()
        broken = fresh()
        result.goto(broken, "/clinic/i/not-a-real-link", "a broken link's page")
        broken.context.close()

        # The therapist, on a desktop.
        page = fresh(viewport={"width": 1280, "height": 900})
        _sign_in(result, page, "axe-owner@example.org", check=True)
        for path, where in _therapist_pages(ids):
            result.goto(page, path, where)
        assign = (
            f"/clinic/couples/{ids['couple']}/homework/new?exercise=library:three_feeling_notes"
        )
        for path, button, where in _EMPTY_FORMS:
            page.goto(f"{base}{path or assign}")
            for date_field in page.locator("main input[type=date]").all():
                date_field.fill("")
            _submit(page, button)
            result.check(page, where)
        # A draft signed with nothing filled in: the note with its errors.
        page.goto(f"{base}/clinic/couples/{ids['couple']}/sessions/{ids['draft']}")
        _submit(page, "Save and sign")
        result.check(page, "draft note signed empty")
        # An addendum on the signed note.
        page.goto(f"{base}/clinic/couples/{ids['couple']}/sessions/{ids['signed']}")
        page.fill("#body", "A later addendum from the accessibility walk.")
        _submit(page, "Sign and add addendum")
        result.check(page, "signed note with an addendum")
        # A form whose CSRF token no longer holds.
        page.goto(f"{base}/clinic/couples/{ids['couple']}/edit")
        page.evaluate(
            "document.querySelectorAll('main input[name=csrf_token]')"
            ".forEach(i => { i.value = 'stale'; })"
        )
        _submit(page, "Save changes")
        result.check(page, "a form that expired")
        # A new homework link for partner A (last: it revokes the one the partner used).
        page.goto(f"{base}/clinic/couples/{ids['couple']}")
        _submit(page, "Make a homework link")
        result.check(page, "a new link made")
        # Partner B's measures, due: sent now, the link shown once to copy.
        page.goto(f"{base}/clinic/couples/{ids['couple']}")
        _submit(page, "Send the measures due now")
        result.check(page, "measures links made")
        # Rating links for the draft session, shown once to copy.
        page.goto(f"{base}/clinic/couples/{ids['couple']}/sessions/{ids['draft']}")
        _submit(page, "Send rating links")
        result.check(page, "rating links made")
        # The couple's page and the dashboard on a narrow phone screen.
        page.set_viewport_size({"width": 320, "height": 800})
        result.goto(page, f"/clinic/couples/{ids['couple']}", "couple page at 320 px")
        result.goto(page, "/clinic/", "dashboard at 320 px")
        page.context.close()
        # A record export on the job queue: its progress page waiting, then done.
        page = fresh()
        _sign_in(result, page, "axe-owner@example.org")
        _walk_queued_export(result, page, app, ids["couple"])
        page.context.close()
        # Partner A's homework link, now replaced by the new one.
        revoked = fresh()
        result.goto(revoked, f"/clinic/h/{ids['homework_a']}", "a replaced link's page")
        revoked.context.close()

        # The warning before the idle sign-out, on a note being written (the page's clock
        # run forward, as in tests/test_kept_notes_browser.py).
        page = fresh()
        page.clock.install()
        _sign_in(result, page, "axe-owner@example.org")
        page.goto(f"{base}/clinic/couples/{ids['couple']}/sessions/{ids['draft']}")
        page.clock.run_for("28:31")
        assert page.locator("[data-idle-warning]").is_visible()
        result.check(page, "the idle warning on a note")
        page.context.close()

        # Two-factor sign-in, turned on by a second therapist: the recovery codes, the
        # settings once it is on, and the code step of signing in.
        page = fresh()
        _sign_in(result, page, "axe-2fa@example.org")
        page.goto(f"{base}/clinic/account/two-factor")
        secret = page.input_value("#totp-secret")
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        _submit(page, re.compile("turn on|confirm", re.I))
        result.check(page, "recovery codes")
        result.goto(page, "/clinic/account/two-factor", "two-factor, on")
        page.context.close()
        page = fresh()
        _sign_in(result, page, "axe-2fa@example.org")
        result.check(page, "sign-in code step")
        page.context.close()
        browser.close()
    yield result


def _route_of(app: Any, path: str) -> str | None:
    adapter = app.url_map.bind("127.0.0.1")
    try:
        rule, _ = adapter.match(path, method="GET", return_rule=True)
    except HTTPException:  # an address that is no route (or only redirects to one)
        return None
    return rule.rule


def test_the_walk_opens_every_get_route_or_says_why_not(walk, server):
    _, app = server
    routes = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    walked = {route for path in walk.opened if (route := _route_of(app, path))}
    stale = sorted(set(EXCUSED) - routes)
    assert not stale, f"EXCUSED names routes the app no longer has: {stale}"
    both = sorted(walked & set(EXCUSED))
    assert not both, f"routes both walked and excused (drop them from EXCUSED): {both}"
    missing = sorted(routes - walked - set(EXCUSED))
    assert not missing, (
        "GET routes the accessibility walk never opened: walk them in "
        f"tests/test_accessibility.py, or excuse them in EXCUSED with the reason: {missing}"
    )


def test_the_walk_reaches_forms_with_their_errors(walk):
    """Forms sent empty come back with errors beside their fields: those pages are
    checked as well."""
    assert len(walk.errors) >= 5, walk.errors


def test_every_page_has_no_critical_or_serious_axe_violation(walk):
    assert len(walk.checked) > 60, walk.checked
    others = sorted({f"{v[1]} ({v[2]})" for v in walk.violations if v[2] not in BLOCKING})
    slowest = sorted(walk.seconds, reverse=True)[:3]
    print(
        f"\naxe-core {AXE_VERSION}: {len(walk.checked)} pages checked in "
        f"{sum(t for t, _ in walk.seconds):.1f} s (slowest: {slowest}); "
        f"lesser findings: {others}"
    )
    found = walk.blocking()
    lines = [
        f"{impact} {rule} on {where}: {help_text}\n    " + "\n    ".join(nodes[:8])
        for where, rule, impact, help_text, nodes in found
    ]
    summary = json.dumps(sorted({f"{v[1]} ({v[2]})" for v in found}))
    assert not found, (
        f"{len(found)} critical or serious axe-core violations on {len(walk.checked)} pages "
        f"{summary}:\n" + "\n".join(lines)
    )


def test_no_attribute_on_any_page_reads_none(walk):
    assert walk.checked
    assert not walk.none_attributes, "\n".join(walk.none_attributes)
