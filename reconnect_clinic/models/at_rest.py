"""What the database holds in clear, and why: every other column is sealed.

Every clinical value is sealed at rest (``security/encryption/cipher.py``): what partners answered
and typed, what their answers scored and flagged, their signatures, notes, addenda and the
reports printed from them, homework as given and therapists' own exercises. A column
stays in clear only for a reason written here: a key, a date, a status or a catalogue
slug the product's queries filter, join or order on; a hash; or who a person is (names
and contact details, which every page shows and which are not clinical).

``tests/test_encryption.py`` walks every mapper's columns and fails on one that is
neither sealed nor listed here, so a new column cannot slip in unsealed: seal it (a
``Sealed`` attribute) or add it below with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from .sealed import sealed_fields

_ID = "the row's random key (UUID): joins and look-ups; says nothing about the case"
_CREATED = "when the row was written: ordering and the records lifecycle"
_UPDATED = "when the row last changed"
_DELETED = "soft delete: which rows the product still shows"
_RECORD = {"id": _ID, "created_at": _CREATED, "updated_at": _UPDATED}
_SOFT = {**_RECORD, "deleted_at": _DELETED}
_FK = "key of the row it belongs to: joins and access checks"

# table -> column -> why it stays in clear.
CLEAR_COLUMNS: Mapping[str, Mapping[str, str]] = {
    "clinic_audit_event": {
        "id": "the log's order, which its hash chain follows",
        "occurred_at": "when: the log is read by time",
        "actor_kind": "therapist, link or system: who acted, never what was said",
        "actor_id": "the actor's key",
        "action": "what kind of access (e.g. note.sign): the log's purpose",
        "record_type": "the kind of record touched",
        "record_id": "the record's key",
        "couple_id": "the case, so its log travels with its records export",
        "remote_addr": "where the request came from, for the practice's review",
        "detail": "event metadata only (a page slug, a report kind, a count), never a "
        "clinical value: the audit log must stay readable without the data keys",
        "prev_hash": "the chain: the hash of the line before",
        "row_hash": "the chain: this line's keyed hash",
        "key_id": "which audit key made row_hash",
    },
    "clinic_therapist": {
        **_RECORD,
        "email": "sign-in look-up (unique); a therapist's work address, not clinical",
        "display_name": "who the therapist is, on every page and report",
        "password_hash": "an Argon2 hash, already one-way",
        "host_user_id": "look-up of the host app's user (unique)",
        "is_admin": "a role, checked on every request",
        "active": "whether the account may sign in",
        "last_login_at": "a date, for the account list",
        "totp_last_step": "a counter that makes each code single-use",
        "session_generation": "a counter that ends old sessions, checked on every request",
    },
    "clinic_recovery_code": {
        **_RECORD,
        "therapist_id": _FK,
        "code_hash": "a SHA-256 of the code, looked up at sign-in",
        "used_at": "a date: a code is good once",
    },
    "clinic_kept_form": {
        **_RECORD,
        "therapist_id": _FK,
        "path": "the page the kept text goes back to: a path of record keys, not clinical",
    },
    "clinic_case_seen": {
        **_RECORD,
        "therapist_id": _FK,
        "couple_id": _FK,
        "seen_at": "a date: the dashboard counts reflections written after it as new",
        "intake_a_read_at": "a date: an intake submitted after it is unread on the dashboard",
        "intake_b_read_at": "as intake_a_read_at, for partner B",
    },
    "clinic_couple": {
        **_SOFT,
        "therapist_id": _FK,
        "label": "the case's name the therapist chooses: the dashboard orders by it in SQL",
        "status": "active, paused or closed: the dashboard filters on it",
        "opened_on": "a date",
        "closed_on": "a date: retention counts from it",
        "retention_until": "a date the purge selects on",
        "legal_hold": "a flag the purge selects on",
    },
    "clinic_partner": {
        **_RECORD,
        "couple_id": _FK,
        "role": "a or b: the partners' pages and privacy rules are keyed on it",
        "first_name": "who the partner is: on every page, and the dashboard's one query",
        "last_name": "as first_name",
        "email": "where their links and reminders go: a contact detail, like the name",
        "pronouns": "shown with the name wherever it is: who they are, not a clinical value",
        "language": "the therapist's choice of language for the partner's pages (en, es)",
    },
    "clinic_client_link": {
        **_RECORD,
        "partner_id": _FK,
        "purpose": "intake or homework: which pages the link opens",
        "token_hash": "a SHA-256 of the link's token, looked up on every partner request",
        "created_by_id": _FK,
        "expires_at": "a date checked on every partner request",
        "used_at": "a date: an intake link is used once",
        "revoked_at": "a date: a revoked link opens nothing",
        "last_opened_at": "a date, for the therapist's list of links",
    },
    "clinic_intake_response": {
        **_SOFT,
        "partner_id": _FK,
        "link_id": "the link it came through (unique): one response per link",
        "taxonomy_version": "which version of the questions it was given under",
        "status": "draft or submitted: the intake flow and the summary select on it",
        "current_page": "a page slug, so the partner resumes where they stopped",
        "language": "the language code (en, es) the questions were shown in",
        "submitted_at": "a date: reports order intakes by it in SQL",
        "consent_at": "when consent was given (the signature itself is sealed)",
        "consent_sha256": "a hash of the practice's consent text as signed (the text "
        "itself is sealed): which version of the practice's document was signed",
    },
    "clinic_intake_page": {
        **_RECORD,
        "response_id": _FK,
        "page": "a page slug (unique per response): each page is saved on its own",
        "complete": "whether the page passed its checks: the flow's status",
        "saved_at": "a date",
    },
    "clinic_measure_result": {
        **_SOFT,
        "partner_id": _FK,
        "instrument": "which questionnaire (a catalogue slug: csi16, phq9, gad7)",
        "administered_at": "a date: charts and reports order by it in SQL",
        "intake_response_id": _FK,
        "language": "the language code (en, es) the instrument was shown in",
        "link_id": "the measures link it was answered through: stores an answer once",
        "instrument_version": "which wording and scoring key was asked (a slug and a "
        "hash of the published instrument): no answer",
    },
    "clinic_measure_schedule": {
        **_RECORD,
        "couple_id": _FK,
        "instruments": "which questionnaires are asked again (catalogue slugs)",
        "cadence": "before every session, every N weeks or once: when links go out",
        "every_weeks": "the N of every N weeks",
        "starts_on": "a date the schedule counts from",
        "active": "whether links still go out (cron filters on it)",
        "created_by_id": _FK,
    },
    "clinic_measure_administration": {
        **_RECORD,
        "couple_id": _FK,
        "partner_id": _FK,
        "due_on": "a date: what is due or missed, filtered by cron and the dashboard",
        "instruments": "which questionnaires this round asks (catalogue slugs)",
        "link_id": _FK,
        "sent_at": "when the link went out: never sent twice",
        "sent_via": "email or copy: how it went out",
        "completed_at": "when it was answered (what was answered is sealed in its results)",
    },
    "clinic_rating_request": {
        **_RECORD,
        "link_id": _FK,
        "therapy_session_id": _FK,
        "partner_id": _FK,
    },
    "clinic_session_rating": {
        **_RECORD,
        "therapy_session_id": _FK,
        "partner_id": _FK,
        "link_id": _FK,
        "measure": "which rating questions were asked (a slug)",
        "measure_version": "which version of them",
        "rated_at": "a date: ratings are shown session by session",
        "language": "the language code (en, es) the page was shown in",
    },
    "clinic_alliance_flag": {
        **_RECORD,
        "couple_id": _FK,
        "therapy_session_id": _FK,
        "kind": "split or drop: that an alert is due, so the dashboard counts alerts "
        "without opening a rating (the ratings themselves are sealed), as a risk's "
        "status is kept in clear",
        "role": "whose rating fell (a or b) for a drop: which partner the alert is about",
    },
    "clinic_custom_exercise": {
        **_SOFT,
        "therapist_id": _FK,
        "step": "a healing step's slug (the published catalogue)",
        "based_on": "the library exercise it was copied from (a catalogue slug)",
        "mode": "together or individual: checked against who it is given to",
        "frequency": "once, daily or weekly: the schedule",
        "times_per_week": "a number for the schedule",
        "duration_minutes": "a number for the schedule",
    },
    "clinic_homework_assignment": {
        **_SOFT,
        "couple_id": _FK,
        "assigned_by_id": _FK,
        "healing_step": "a healing step's slug (the published catalogue)",
        "taxonomy_version": "which version of the catalogue it was given under",
        "exercise_ref": "library:<slug> or custom:<key>: what it was drawn from",
        "assignee": "a, b or both: a partner's pages select on it in SQL",
        "starts_on": "a date: lists order by it in SQL",
        "due_on": "a date: lists, reminders and the schedule select on it",
        "frequency": "once, daily or weekly: the schedule",
        "times_per_week": "a number for the schedule",
        "closed_on": "a date: lists order open before closed in SQL",
    },
    "clinic_homework_check_in": {
        **_SOFT,
        "assignment_id": _FK,
        "partner_id": _FK,
        "client_key": "the form's random key (unique): a double submit stores one row",
        "checked_in_on": "a date: adherence counts days",
        "completion": "done, partly or not done: the adherence status",
        "language": "the language code (en, es) the page was shown in",
        "share_with_partner": "whether the partner may see the reflection: a privacy rule",
        "late": "whether it came after the assignment closed: not counted",
    },
    "clinic_suggestion_decision": {
        **_RECORD,
        "couple_id": _FK,
        "step": "a healing step's slug, unique per couple: a decision is looked up by it",
        "decision": "accepted or dismissed: a status",
        "decided_by_id": _FK,
        "decided_at": "a date",
    },
    "clinic_reminder_sent": {
        **_RECORD,
        "assignment_id": _FK,
        "partner_id": _FK,
        "due_on": "a date, unique with the two keys: a reminder goes out once",
        "sent_at": "a date",
    },
    "clinic_therapy_session": {
        **_SOFT,
        "couple_id": _FK,
        "therapist_id": _FK,
        "held_on": "a date: lists, reports and batch printing select and order on it",
        "duration_minutes": "a number, for attendance and billing",
        "format": "in person or video",
        "attendance": "a, b or both: who came",
    },
    "clinic_session_note": {
        **_RECORD,
        "therapy_session_id": _FK,
        "template": "which note template (a slug)",
        "status": "draft or signed: signed notes are locked, and batch printing selects on it",
        "signed_at": "a date",
        "signed_by_id": _FK,
        "version": "a counter: two editors never overwrite each other",
    },
    "clinic_note_addendum": {
        **_RECORD,
        "note_id": _FK,
        "signed_by_id": _FK,
        "signed_at": "a date: addenda print in its order",
    },
    # Risk state (risk/core.py): what was disclosed (kind, level, source, question) and
    # the therapist's kind and level are sealed in "facts"; what stays here says when,
    # and whose, never what.
    "clinic_risk_disclosure": {
        **_RECORD,
        "partner_id": _FK,
        "fingerprint": "a keyed hash (HMAC-SHA256 under a key derived from the encryption "
        "key) of partner, occasion, kind, source and question, unique: saving the same "
        "answer again records and reopens nothing; says nothing without the key",
        "occasion_id": "key of the intake response or measure result it came from",
        "first_seen_at": "a date: a disclosure newer than the therapist's last word "
        "reopens the risk",
        "alert_due": "whether the therapist's email (naming no one) is owed",
        "alerted_at": "a date: that email goes out once",
    },
    "clinic_risk_assessment": {
        **_RECORD,
        "partner_id": _FK,
        "status": "open, acknowledged or resolved: the therapist's step in the workflow, "
        "which the audit log names anyway (risk.<status>, readable without the data keys); "
        "it says neither which kind of risk nor how urgent (sealed)",
        "therapist_id": _FK,
        "assessed_at": "a date: the latest word counts",
    },
    "clinic_stored_report": {
        **_RECORD,
        "therapy_session_id": _FK,
        "kind": "which report (a slug)",
        "revision": "a counter: each addendum issues the next",
        "content_sha256": "a fingerprint of what the report says, printed in the PDF",
        "pdf_sha256": "the SHA-256 of the (sealed) PDF, checked before it is served",
        "audit_lines": "the audit log's length when the report was issued (a checkpoint)",
        "audit_head": "the audit log's last hash then (a checkpoint)",
        "audit_mac": "the checkpoint's keyed MAC",
    },
}


def sealed_columns() -> dict[tuple[str, str], str]:
    """Every sealed attribute's storage column, as (table, column), with the column name
    its seal is bound to (which must be the same, or a migration could not open it)."""
    found = {}
    for model, name in sealed_fields():
        storage = sa.inspect(model).columns[f"{name}_sealed"]
        found[(storage.table.name, storage.name)] = getattr(model, name).column
    return found


def at_rest_problems(
    tables: Iterable[sa.Table],
    sealed: Mapping[tuple[str, str], str],
    clear: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """What is wrong with the at-rest rule: a column neither sealed nor listed in clear, a
    listed column that is sealed or no longer exists, an empty reason, a seal bound to
    another column's name. Empty when every column is accounted for."""
    problems = []
    seen = set()
    for table in tables:
        for column in table.columns:
            key = (table.name, column.name)
            seen.add(key)
            reason = clear.get(table.name, {}).get(column.name)
            if key in sealed:
                if reason is not None:
                    problems.append(f"{table.name}.{column.name} is sealed and listed in clear")
                if sealed[key] != column.name:
                    problems.append(
                        f"{table.name}.{column.name} is sealed as {sealed[key]!r}, "
                        "another column's name"
                    )
            elif reason is None:
                problems.append(
                    f"{table.name}.{column.name} is neither sealed nor listed in "
                    "CLEAR_COLUMNS (models/at_rest.py) with its reason"
                )
            elif not reason.strip():
                problems.append(f"{table.name}.{column.name} is listed with no reason")
    for table_name, columns in clear.items():
        for column_name in columns:
            if (table_name, column_name) not in seen:
                problems.append(f"{table_name}.{column_name} is listed but does not exist")
    return problems
