"""Session ratings: the therapist sends each partner who attended a rating link from the
session page; each partner rates the session privately through their own link."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from .. import i18n
from ..blueprint import RouteTable, therapist_required, with_couple
from ..mail import mail_enabled, public_url
from ..models import ClientLink, Couple, Therapist, TherapySession
from ..notes.queries import session_or_404
from ..reports.charts import line_chart_svg
from ..security.audit.log import record_event
from ..security.links.session import link_ref
from ..security.links.tokens import LinkState
from ..security.links.views import (
    NewLinkForm,
    _email_link,
    after_timeout,
    link_problem,
    partner_context,
    posted_context,
)
from ..security.shown_once import keep_to_show_once, take_to_show
from ..state import db_session
from .chart import ratings_chart
from .items import RatingMeasure
from .operations import PURPOSE, RatingError, case_open, record_rating, send_rating_links
from .queries import (
    attended,
    configured_measure,
    couple_ratings,
    rating_of,
    request_for_link,
    session_rating_panel,
)

routes = RouteTable()

_LINKS_SHOWN = "rating_links"


def session_ratings_context(couple: Couple, therapy_session: TherapySession) -> dict[str, Any]:
    """What the session page's ratings section (``_session_ratings.html``) needs."""
    return {
        "ratings": session_rating_panel(couple, therapy_session),
        "rating_link_form": NewLinkForm(),
        "ratings_mail": mail_enabled(),
    }


def couple_ratings_context(couple: Couple) -> dict[str, Any]:
    """What the couple page's ratings section (``_couple_ratings.html``) needs."""
    ratings = couple_ratings(couple)
    spec = ratings_chart(ratings)
    # The SVG is drawn by reports/charts.py from numbers only (no text a partner typed).
    chart = Markup(line_chart_svg(spec)) if spec is not None else None  # noqa: S704
    return {"couple_ratings": ratings, "couple_ratings_chart": chart}


# --- therapist: sending the links -----------------------------------------------------


@routes.route("/couples/<uuid:couple_id>/sessions/<uuid:session_id>/rating-links", methods=["POST"])
@therapist_required
@with_couple
def rating_links_create(
    therapist: Therapist, couple: Couple, session_id: uuid.UUID
) -> ResponseReturnValue:
    therapy_session = session_or_404(couple, session_id)
    form = NewLinkForm()
    if not form.validate_on_submit():
        abort(400)
    back = url_for(
        ".session_detail", couple_id=couple.id, session_id=therapy_session.id, _anchor="ratings"
    )
    try:
        made = send_rating_links(therapy_session, therapist)
    except RatingError as error:
        db_session().rollback()
        flash(str(error), "error")
        return redirect(back, code=303)
    db_session().commit()
    shown = []
    for item in made:
        url = public_url(url_for(".link_open", token=item.issued.token, purpose=PURPOSE))
        partner = item.issued.link.partner
        result = _email_link(partner, url, item.issued.link) if form.send_email.data else None
        shown.append(
            {"link_id": str(item.issued.link.id), "token": item.issued.token, "email": result}
        )
    # Only the tokens' hashes are kept: the links are shown once, on a page of their own.
    keep_to_show_once(_LINKS_SHOWN, therapy_session.id, {"links": shown})
    return redirect(
        url_for(".rating_links_created", couple_id=couple.id, session_id=therapy_session.id),
        code=303,
    )


@routes.route("/couples/<uuid:couple_id>/sessions/<uuid:session_id>/rating-links", methods=["GET"])
@therapist_required
@with_couple
def rating_links_created(
    therapist: Therapist, couple: Couple, session_id: uuid.UUID
) -> ResponseReturnValue:
    """The rating links just made, shown once; afterwards, back to the session page."""
    therapy_session = session_or_404(couple, session_id)
    taken = take_to_show(_LINKS_SHOWN)
    if taken is None or taken[0] != therapy_session.id:
        flash(
            "Rating links are shown once, when they are made, and are not shown again. If "
            "one was not kept, send the links again (the old ones then stop working).",
            "info",
        )
        return redirect(
            url_for(
                ".session_detail",
                couple_id=couple.id,
                session_id=therapy_session.id,
                _anchor="ratings",
            ),
            code=303,
        )
    links = []
    for entry in taken[1].get("links", []):
        link = db_session().get(ClientLink, uuid.UUID(str(entry["link_id"])))
        if link is None or link.partner.couple_id != couple.id or link.revoked_at is not None:
            continue
        url = public_url(url_for(".link_open", token=str(entry["token"]), purpose=PURPOSE))
        links.append({"link": link, "partner": link.partner, "url": url, "email": entry["email"]})
    response = make_response(
        render_template(
            "reconnect_clinic/rating_links_created.html",
            couple=couple,
            therapy_session=therapy_session,
            links=links,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- partner: rating a session ----------------------------------------------------------


def rating_form_class(measure: RatingMeasure) -> type[FlaskForm]:
    """A form with one 0-10 (or the measure's own) radio group per item."""

    class RatingForm(FlaskForm):
        class Meta:
            # Partner pages carry a signed link reference instead of a CSRF token.
            csrf = False

    # Drawn in the partner's language (i18n.py): the built-in items are the project's own
    # words and have their Spanish; a practice's own measure is shown as written.
    tr = i18n.lazy_gettext
    for item in measure.items:
        choices = [
            SelectChoice(
                str(n),
                i18n.lazy_gettext("%(number)s · %(words)s", number=n, words=tr(item.low))
                if n == measure.low
                else (
                    i18n.lazy_gettext("%(number)s · %(words)s", number=n, words=tr(item.high))
                    if n == measure.high
                    else str(n)
                ),
            )
            for n in measure.points
        ]
        setattr(
            RatingForm,
            f"item_{item.key}",
            RadioField(
                tr(item.text),
                choices=choices,
                validators=[InputRequired(i18n.lazy_gettext("Please choose a number."))],
            ),
        )
    return RatingForm


def _refused(kind: str, status: int) -> Response:
    """A clear page for a rating that cannot be taken; it names nothing of the couple."""
    return make_response(
        render_template("reconnect_clinic/rating_refused.html", kind=kind, client_page=True),
        status,
    )


@routes.route("/rating/<uuid:link_id>/", methods=["GET", "POST"])
def rating_page(link_id: uuid.UUID) -> ResponseReturnValue:
    posted = request.method == "POST"
    keep_only = False
    if posted:
        sent = posted_context(PURPOSE, link_id)
        link, state, keep_only = sent.link, sent.state, sent.keep_only
    else:
        context = partner_context(PURPOSE, link_id)
        link, state = context
    rating_request = request_for_link(link)
    if rating_request is None:
        return link_problem("unknown")
    therapy_session = rating_request.therapy_session
    partner = link.partner
    if not case_open(partner.couple) or therapy_session.deleted_at is not None:
        return _refused("closed", 410)
    if not attended(therapy_session, partner.role):
        # The session's attendance was corrected after the link was made.
        return _refused("not_attended", 403)
    measure = configured_measure()
    existing = rating_of(therapy_session.id, partner.id)
    if existing is not None or state is LinkState.COMPLETED:
        if posted and keep_only:
            return after_timeout(link, kept=True)
        if posted:
            flash(i18n.gettext("Your rating of this session was already saved. Thank you."), "info")
            return redirect(url_for(".rating_page", link_id=link.id), code=303)
        return _render_done(link, therapy_session)
    form = rating_form_class(measure)(formdata=request.form if posted else None)
    if posted:
        if not form.validate():
            if keep_only:
                return after_timeout(link, kept=False)
            return _render_form(link, therapy_session, measure, form)
        answers = {item.key: form[f"item_{item.key}"].data for item in measure.items}
        try:
            rating, created = record_rating(link, rating_request, answers, measure)
        except (RatingError, ValueError):
            db_session().rollback()
            return _refused("not_attended", 403)
        if created:  # the language the page was shown in (i18n.py), kept with the answers
            rating.language = i18n.current_language()
        db_session().commit()
        if keep_only:
            return after_timeout(link, kept=True)
        flash(
            i18n.gettext("Thank you: your rating is saved.")
            if created
            else i18n.gettext("That rating was already saved."),
            "success",
        )
        return redirect(url_for(".rating_page", link_id=link.id), code=303)
    page = _render_form(link, therapy_session, measure, form)
    record_event("rating.open", actor=link, record=rating_request, couple_id=partner.couple_id)
    db_session().commit()
    return page


def _render_form(
    link: ClientLink, therapy_session: TherapySession, measure: RatingMeasure, form: FlaskForm
) -> str:
    return render_template(
        "reconnect_clinic/rating_page.html",
        partner=link.partner,
        link=link,
        link_ref=link_ref(link),
        therapy_session=therapy_session,
        measure=measure,
        form=form,
        client_page=True,
    )


def _render_done(link: ClientLink, therapy_session: TherapySession) -> str:
    # Only that a rating was given: never the numbers, on a device others may share.
    return render_template(
        "reconnect_clinic/rating_done.html",
        partner=link.partner,
        therapy_session=therapy_session,
        client_page=True,
    )
