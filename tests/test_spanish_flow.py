"""A partner who reads Spanish, end to end: the therapist sets the partner's language on the
couple's form, the partner answers the whole intake and checks in on homework in Spanish,
their emails and calendar files are in Spanish, each answer records the language it was
given in (and the FHIR export carries the words the partner was shown), and the
therapist's own pages stay English."""

from __future__ import annotations

import email
import json
import re
from datetime import date, timedelta
from email.header import decode_header, make_header
from typing import Any

import icalendar
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle

from reconnect_clinic.fhir.codes import questionnaire_url
from reconnect_clinic.models import HomeworkCheckIn, IntakeResponse, MeasureResult, Partner
from reconnect_clinic.state import db_session
from tests.helpers import PartnerBrowser, link_ref_from, login, post_form
from tests.test_email import smtp  # noqa: F401 (the fixture)

INTAKE_URL = questionnaire_url("intake")


def _read_mail(raw: str) -> tuple[str, str]:
    """The subject and the body of a message as the partner's mail program shows them."""
    message = email.message_from_string(raw)
    subject = str(make_header(decode_header(message["Subject"])))
    body = message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
    return subject, body


def _set_language(client, couple, role: str, language: str) -> None:
    """The therapist picks the partner's language on the couple's edit form."""
    url = f"/clinic/couples/{couple.id}/edit"
    form = client.get(url).text
    assert f'name="partner_{role}-language"' in form
    data = {
        "label": couple.label,
        "status": couple.status,
        "opened_on": couple.opened_on.isoformat(),
    }
    for partner in couple.partners:
        prefix = f"partner_{partner.role}-"
        data.update(
            {
                prefix + "first_name": partner.first_name,
                prefix + "last_name": partner.last_name,
                prefix + "email": partner.email or "",
                prefix + "pronouns": partner.pronouns or "",
                prefix + "language": language if partner.role == role else "",
            }
        )
    assert post_form(client, url, data).status_code == 302


def test_the_therapist_sets_a_partners_language(client, make):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    _set_language(client, couple, "a", "es")
    db_session().expire_all()
    assert db_session().get(Partner, couple.partner_a.id).language == "es"
    assert db_session().get(Partner, couple.partner_b.id).language is None
    # Shown again as set, in the therapist's English.
    form = client.get(f"/clinic/couples/{couple.id}/edit").text
    assert re.search(r'<option selected value="es">Español</option>', form)
    assert "Language of their pages" in form


def test_a_partner_answers_the_whole_intake_in_spanish(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    _set_language(client, couple, "a", "es")
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))

    about = partner.get("about")
    assert '<html lang="es">' in about.text
    assert "Paso 1 de 7" in about.text
    assert "Sobre usted y su relación" in about.text
    assert "¿Cuánto tiempo llevan juntos?" in about.text  # a question
    assert "Menos de un año" in about.text  # and its answers
    # A page sent with a missing answer comes back with its errors in Spanish.
    sent = partner.client.post(
        f"{partner.base}/about", data={"link_ref": link_ref_from(about.text), "action": "next"}
    )
    assert sent.status_code == 303
    again = partner.get("about").text
    assert "Revise los campos señalados" in again
    assert "Elija una respuesta." in again

    signs = partner.get("signs").text
    assert "Me siento lejos de mi pareja, incluso cuando estamos juntos." in signs
    assert "Casi siempre" in signs
    # The validated instruments: in their own English, marked so, with a note in Spanish.
    wellbeing = partner.get("wellbeing").text
    assert "se muestran en su idioma original (inglés)" in wellbeing
    assert '<div lang="en">' in wellbeing
    assert "Little interest or pleasure in doing things" in wellbeing
    consent = partner.get("consent").text
    assert "Acepto participar en terapia de pareja con esta consulta." in consent

    done = partner.fill(make.intake_answers(frequency="3", text="Nos hemos distanciado."))
    assert done.headers["Location"].endswith("/done")
    thanks = partner.get("done").text
    assert "<h1>Gracias</h1>" in thanks
    assert "Nos hemos distanciado." in thanks

    db_session().expire_all()
    response = db_session().scalar(sa.select(IntakeResponse))
    assert response.status == "submitted"
    assert response.language == "es"
    # What was signed is what was shown: the Spanish consent.
    assert response.consent_text.startswith("Acepto participar en terapia de pareja")
    results = list(db_session().scalars(sa.select(MeasureResult)))
    assert len(results) == 3
    assert {r.language for r in results} == {"en"}  # shown in their original language

    # The therapist reads the answers in English, whatever their browser asks for.
    answers = client.get(
        f"/clinic/couples/{couple.id}/partners/a/intake", headers={"Accept-Language": "es"}
    ).text
    assert "About you and your relationship" in answers
    assert "Sobre usted y su relación" not in answers
    assert "Nos hemos distanciado." in answers


def test_an_answer_given_in_english_says_so(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    partner = PartnerBrowser(app, make.intake_link(owner, couple.partner_a))
    partner.fill(make.intake_answers())
    db_session().expire_all()
    assert db_session().scalar(sa.select(IntakeResponse.language)) == "en"


def _check_in(browser: PartnerBrowser, assignment_id, **fields):
    page = browser.get().text
    key = re.search(
        rf'action="[^"]*/{assignment_id}/check-in".*?name="client_key" type="hidden" '
        rf'value="([^"]+)"',
        page,
        re.S,
    ).group(1)
    data = {"client_key": key, "link_ref": link_ref_from(page), **fields}
    return browser.client.post(f"{browser.base}/{assignment_id}/check-in", data=data)


def test_a_partner_checks_in_on_homework_in_spanish(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    joint = make.assignment(owner, couple, exercise="daily_check_in", frequency="daily", days=6)
    partner = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    page = partner.get("?lang=es").text
    assert "Sus tareas, " in page
    assert "Diez minutos diarios para contarnos cómo estamos" in page
    assert "¿Lo hizo?" in page

    # Without an answer: the error in Spanish, beside the field.
    refused = _check_in(partner, joint.id)
    assert refused.status_code == 200
    assert "Elija una respuesta." in refused.text
    # Drawn from a post to an address that takes posts only: no switch that would 405.
    assert "hreflang" not in refused.text

    sent = _check_in(partner, joint.id, completion="partly", helpfulness="4", reflection="Bien")
    assert sent.status_code == 302
    after = partner.get().text
    assert "Registro guardado para «Diez minutos diarios para contarnos cómo estamos»" in after
    assert "Sus registros (1)" in after
    assert "En parte" in after
    db_session().expire_all()
    check_in = db_session().scalar(sa.select(HomeworkCheckIn))
    assert check_in.language == "es"
    assert check_in.reflection == "Bien"


def test_the_partners_link_email_is_in_their_language(client, make, app, smtp):  # noqa: F811
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    _set_language(client, couple, "a", "es")
    page = client.get(f"/clinic/couples/{couple.id}").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    made = client.post(
        f"/clinic/couples/{couple.id}/partners/a/links/intake",
        data={"csrf_token": token, "send_email": "y"},
    )
    assert made.status_code == 303
    shown = client.get(made.headers["Location"]).text
    assert f"Emailed to {couple.partner_a.email}." in shown  # the therapist's English
    assert len(smtp.messages) == 1
    subject, body = _read_mail(smtp.messages[0][1])
    assert subject.startswith("Su cuestionario privado de")
    assert f"Hola, {couple.partner_a.first_name}:" in body
    assert "Abra este enlace para empezar." in body


def test_a_reminder_is_in_the_partners_language(app, make, smtp, cli):  # noqa: F811
    owner = make.therapist()
    couple = make.couple(owner)
    couple.partner_a.language = "es"
    db_session().commit()
    today = date.today()  # noqa: DTZ011
    make.assignment(owner, couple, starts_on=today - timedelta(days=6), days=6)
    app.config["RECONNECT_CLINIC_HOMEWORK_REMINDERS"] = True
    try:
        sent = cli.invoke(args=["clinic", "send-reminders"])
    finally:
        app.config["RECONNECT_CLINIC_HOMEWORK_REMINDERS"] = False
    assert "Reminders sent: 2" in sent.output
    mails = {recipients[0]: _read_mail(raw) for recipients, raw in smtp.messages}
    spanish_subject, spanish = mails[couple.partner_a.email]
    english_subject, english = mails[couple.partner_b.email]
    assert spanish_subject.startswith("Un recordatorio de")
    assert "«Diez minutos diarios para contarnos cómo estamos»" in spanish
    assert english_subject.startswith("A reminder from")
    assert "“Ten-minute daily check-in”" in english


def test_a_partner_rates_a_session_in_spanish(make, app):
    from reconnect_clinic.models import SessionRating

    owner = make.therapist()
    couple = make.couple(owner)
    held = make.therapy_session(owner, couple)
    browser = PartnerBrowser(app, make.rating_links(owner, held)["a"], "rating")
    form = browser.get("?lang=es").text
    assert "¿Cómo le fue en la sesión del" in form
    assert "En esta sesión me sentí escuchado o escuchada y comprendido o comprendida." in form
    assert "0 · nada" in form
    answers = {f"item_{key}": "7" for key in ("heard", "what_matters", "approach", "overall")}
    sent = browser.client.post(browser.start, data={**answers, "link_ref": link_ref_from(form)})
    assert sent.status_code == 303
    assert "Gracias: su valoración está guardada." in browser.get("").text
    db_session().expire_all()
    assert db_session().scalar(sa.select(SessionRating.language)) == "es"


def test_repeated_measures_stay_in_their_original_language(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    token = make.measures_link(owner, couple.partner_a, instruments="phq9")
    browser = PartnerBrowser(app, token, "measures")
    page = browser.get("?lang=es").text
    assert "Unas preguntas de su terapeuta" in page
    assert "se muestran en su idioma original (inglés)" in page
    assert '<div lang="en">' in page
    assert "Little interest or pleasure in doing things" in page


def _fhir_intake_texts(client, couple, role: str) -> dict[str, str]:
    """linkId: text of the intake's response in the partner's FHIR Bundle."""
    bundle = json.loads(client.get(f"/clinic/couples/{couple.id}/partners/{role}/fhir.json").data)
    Bundle.model_validate(bundle)
    responses = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    (intake,) = [r for r in responses if r["questionnaire"].startswith(INTAKE_URL)]
    texts = {"language": intake["language"]}
    for group in intake["item"]:
        texts[group["linkId"]] = group["text"]
        texts.update({item["linkId"]: item["text"] for item in group["item"] if "text" in item})
    for response in responses:
        if response is not intake:
            texts.update({item["linkId"]: item.get("text", "") for item in response["item"]})
    return texts


def test_the_fhir_export_has_the_words_each_partner_was_shown(client, make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    login(client, owner.email)
    _set_language(client, couple, "a", "es")
    PartnerBrowser(app, make.intake_link(owner, couple.partner_a)).fill(make.intake_answers())
    PartnerBrowser(app, make.intake_link(owner, couple.partner_b)).fill(make.intake_answers())

    spanish = _fhir_intake_texts(client, couple, "a")
    assert spanish["language"] == "es"
    assert spanish["about"] == "Sobre usted y su relación"
    assert spanish["relationship_length"] == "¿Cuánto tiempo llevan juntos?"
    assert spanish["agree"] == "Lo he leído y estoy de acuerdo"
    # The PHQ-9 was shown in its own English, and says so in the export too.
    assert spanish["/44250-9"] == "Little interest or pleasure in doing things"

    english = _fhir_intake_texts(client, couple, "b")
    assert english["language"] == "en"
    assert english["about"] == "About you and your relationship"
    assert english["relationship_length"] == "How long have you been together?"
    assert english["/44250-9"] == "Little interest or pleasure in doing things"


def _calendar(browser: PartnerBrowser, assignment_id) -> tuple[bytes, Any]:
    response = browser.get(f"{assignment_id}.ics")
    assert response.status_code == 200
    (event,) = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    return response.data, event


def test_the_calendar_file_is_in_the_partners_language(make, app):
    owner = make.therapist()
    couple = make.couple(owner)
    couple.partner_a.language = "es"  # the therapist's setting: no ?lang= needed
    db_session().commit()
    together = make.assignment(owner, couple, exercise="daily_check_in", frequency="daily")
    alone = make.assignment(owner, couple, exercise="three_feeling_notes", assignee="a")
    spanish = PartnerBrowser(app, make.homework_link(owner, couple.partner_a), "homework")
    english = PartnerBrowser(app, make.homework_link(owner, couple.partner_b), "homework")

    raw, event = _calendar(spanish, together.id)
    assert str(event["SUMMARY"]) == "Tiempo juntos"
    minutes = int(together.content.get("duration_minutes", 15))
    assert str(event["DESCRIPTION"]) == f"Unos {minutes} minutos."
    (alarm,) = event.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == "Tiempo juntos"
    assert event["SUMMARY"].params["LANGUAGE"] == "es"
    assert b"Time together" not in raw
    assert str(_calendar(spanish, alone.id)[1]["SUMMARY"]) == "Tiempo para usted"
    # The page says what the entry is called, in the same words.
    assert "titulada solo «Tiempo juntos»" in spanish.get().text.replace("\n", " ")

    raw, event = _calendar(english, together.id)
    assert str(event["SUMMARY"]) == "Time together"
    assert str(event["DESCRIPTION"]) == f"About {minutes} minutes."
    assert event["SUMMARY"].params["LANGUAGE"] == "en"
    # The partner's own choice outranks the setting, on the file as on the pages.
    spanish.get("?lang=en")
    assert str(_calendar(spanish, together.id)[1]["SUMMARY"]) == "Time together"
