"""``flask clinic ...``: database, demo data and accounts. Each command commits once."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

import click
from flask import current_app

from . import migrate
from .deferred_keys import KeyCheckedGroup
from .state import get_state

if TYPE_CHECKING:
    from .models import Couple, TherapySession

# Every command but new-key needs the encryption keys (deferred_keys.py).
clinic_cli = KeyCheckedGroup("clinic", help="Reconnect Clinic: database, demo data and accounts.")


@clinic_cli.command("db-upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Apply the clinic's migrations to the app's database."""
    engine = get_state().db.engine
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    click.echo(f"Clinic tables at revision {after} (were at {before or 'nothing'}).")
    _backfill_risks(engine)


def _backfill_risks(engine: Any) -> None:
    """Once the risk tables exist (0012): record what intakes stored before them
    disclose. A migration cannot do it (the answers are sealed and it has no keys)."""
    import sqlalchemy as sa

    from .models import RiskDisclosure
    from .risk.operations import backfill

    if not sa.inspect(engine).has_table(RiskDisclosure.__tablename__):
        return
    added = backfill()
    get_state().db.session.commit()
    if added:
        click.echo(f"Risk state: {added} disclosures recorded from earlier intakes.")


@clinic_cli.command("risk-backfill")
def risk_backfill_command() -> None:
    """Record the risk disclosures of intakes and measures stored before migration 0012
    (db-upgrade does this itself; for a host that runs the migrations from its own code).
    Safe to run again."""
    engine = get_state().db.engine
    _backfill_risks(engine)
    click.echo("Risk state is up to date with every stored intake and measure.")


@clinic_cli.command("send-risk-alerts")
def send_risk_alerts_command() -> None:
    """Email therapists any "a case needs your attention" message that could not be sent
    when its risk opened (each goes out once). For cron, e.g. every few minutes."""
    from .risk import alerts

    if not alerts.enabled():
        click.echo("Risk emails are off (RECONNECT_CLINIC_SMTP_HOST / RISK_ALERT_EMAILS).")
        return
    base = current_app.config.get("RECONNECT_CLINIC_PUBLIC_URL")
    if not base:
        raise click.ClickException(
            "Set RECONNECT_CLINIC_PUBLIC_URL: the email links to the case's page."
        )
    # A request context for url_for; the address itself comes from PUBLIC_URL.
    with current_app.test_request_context("/"):
        sent, failed = alerts.send_due()
    click.echo(f"Risk emails sent: {sent}; failed (will be tried again): {failed}.")
    if failed:
        raise SystemExit(1)


@clinic_cli.command("db-downgrade")
@click.option("--revision", default="base", show_default=True, help="Target revision.")
@click.confirmation_option(prompt="This drops clinic tables and the records in them. Go on?")
def db_downgrade(revision: str) -> None:
    """Undo the clinic's migrations (to base: remove every clinic table)."""
    engine = get_state().db.engine
    migrate.downgrade(engine, revision)
    click.echo(f"Clinic tables at revision {migrate.current_revision(engine) or 'base'}.")


@clinic_cli.command("create-therapist")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True, help="Name shown to colleagues.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given.",
)
@click.option("--admin", is_flag=True, help="Practice admin.")
def create_therapist_command(email: str, display_name: str, password: str, admin: bool) -> None:
    """Create a therapist account for the standalone login."""
    from .security.accounts.therapists import AccountError, create_therapist

    session = get_state().db.session
    try:
        therapist = create_therapist(
            email=email, display_name=display_name, password=password, is_admin=admin
        )
    except AccountError as error:
        session.rollback()
        raise click.ClickException(str(error)) from None
    session.commit()
    click.echo(f"Therapist {therapist.email} created.")


@clinic_cli.command("reset-two-factor")
@click.argument("email")
def reset_two_factor_command(email: str) -> None:
    """Turn off a therapist's two-factor sign-in, for one who has lost both the phone and
    the recovery codes; they sign in with their password and turn it on again."""
    from .security.accounts.second_factor import turn_off_second_factor
    from .security.accounts.therapists import end_sessions, find_by_email
    from .security.audit.log import record_event

    session = get_state().db.session
    therapist = find_by_email(email)
    if therapist is None:
        raise click.ClickException(f"No therapist has the email {email!r}.")
    if not therapist.totp_secret_sealed:
        click.echo(f"Two-factor sign-in is already off for {therapist.email}.")
        return
    turn_off_second_factor(therapist)
    end_sessions(therapist)  # whoever holds the lost phone's sessions is signed out
    record_event(
        "therapist.2fa_off", actor=None, record=therapist, detail={"with": "reset-two-factor"}
    )
    session.commit()
    click.echo(
        f"Two-factor sign-in is off for {therapist.email}; its recovery codes are void "
        "and its sessions ended."
    )


@clinic_cli.command("set-password")
@click.argument("email")
@click.option(
    "--password",
    prompt="New password",
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given.",
)
def set_password_command(email: str, password: str) -> None:
    """Give a therapist a new password (one who has forgotten theirs, or whose password
    may be known to someone else); every session they have ends."""
    from .security.accounts.therapists import AccountError, find_by_email, set_password
    from .security.audit.log import record_event

    session = get_state().db.session
    therapist = find_by_email(email)
    if therapist is None:
        raise click.ClickException(f"No therapist has the email {email!r}.")
    if therapist.host_user_id is not None:
        raise click.ClickException(
            f"{therapist.email} signs in through the host application, not with a password."
        )
    try:
        set_password(therapist, password)
    except AccountError as error:
        session.rollback()
        raise click.ClickException(str(error)) from None
    record_event("therapist.password_changed", actor=None, record=therapist, detail={"via": "cli"})
    session.commit()
    click.echo(f"New password set for {therapist.email}; every session of theirs has ended.")


@clinic_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Add the demo therapist and two demo couples (safe to run again)."""
    from .demo_data import DEMO_CONTENTS, DEMO_EMAIL, DEMO_PASSWORD, seed_demo

    created = seed_demo()
    get_state().db.session.commit()
    click.echo("Demo data added:" if created else "Demo data already present:")
    for line in DEMO_CONTENTS:
        click.echo(f"  {line}")
    click.echo(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")


@clinic_cli.command("send-measures")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if it were this date (YYYY-MM-DD); default: today.",
)
def send_measures_command(today: datetime | None) -> None:
    """Send the measures links each couple's schedule calls for now: by email when SMTP
    is set up and the partner has an address, otherwise listed here to copy (shown
    once). Safe to run again: an administration is made, and sent, once. For cron,
    e.g. every morning."""
    from .measures.operations import eligible_couples, prepare_due
    from .measures.sending import deliver

    if not current_app.config.get("RECONNECT_CLINIC_PUBLIC_URL"):
        raise click.ClickException(
            "Set RECONNECT_CLINIC_PUBLIC_URL: the links must carry the practice's address."
        )
    day = today.date() if today else date.today()  # noqa: DTZ011 - the practice's own day
    session = get_state().db.session
    sent = 0
    # A request context for url_for; the address itself comes from PUBLIC_URL.
    with current_app.test_request_context("/"):
        for couple in eligible_couples():
            delivered = deliver(prepare_due(couple, today=day))
            session.commit()  # each couple's administrations at once, before printing
            for item in delivered:
                sent += 1
                click.echo(f"{couple.label} · {item.partner} · due {item.due_on}: {item.result}")
                if item.url:
                    click.echo(f"  {item.url}")
    click.echo(f"Measures links made: {sent}.")


@clinic_cli.command("send-reminders")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if it were this date (YYYY-MM-DD); default: today.",
)
def send_reminders_command(today: datetime | None) -> None:
    """Email partners about homework due today or tomorrow (safe to run again: each
    reminder goes out once). For cron, e.g. every morning."""
    from .homework.reminders import send_reminders
    from .mail import mail_enabled

    if not current_app.config["RECONNECT_CLINIC_HOMEWORK_REMINDERS"]:
        click.echo("Homework reminders are off (RECONNECT_CLINIC_HOMEWORK_REMINDERS).")
        return
    if not mail_enabled():
        click.echo("Email is not set up (RECONNECT_CLINIC_SMTP_HOST): no reminders sent.")
        return
    day = today.date() if today else date.today()  # noqa: DTZ011 - the practice's own day
    from .tasks import jobs, queue

    if queue.enabled():
        task_id = queue.submit("reminders", jobs.reminders_job, (day.isoformat(),))
        click.echo(f"Reminders queued as job {task_id}; waiting for a worker...")
        sent, failed = _wait_for(task_id)
    else:
        sent, failed = send_reminders(day)
    click.echo(f"Reminders sent: {sent}; failed (will be tried again): {failed}.")
    if failed:
        raise SystemExit(1)


def _checked_session_pdf(couple: Couple, therapy_session: TherapySession, *, via: str) -> bytes:
    """The session report's PDF; a stored one that fails its integrity check is refused
    (audited and logged, committed) and the command fails saying so."""
    from .reports import service

    try:
        return service.session_report_pdf(couple, therapy_session)
    except service.ReportIntegrityError as error:
        session = get_state().db.session
        session.rollback()
        service.record_integrity_failure(error, actor=None, detail={"via": via})
        session.commit()
        raise click.ClickException(f"Not written: the {error}. Restore it from a backup.") from None


def _couple_for_session(session_id: str) -> tuple[Couple, TherapySession]:
    import uuid

    from .models import Couple, TherapySession

    session = get_state().db.session
    try:
        key = uuid.UUID(session_id)
    except ValueError:
        raise click.BadParameter(f"{session_id!r} is not a session id") from None
    therapy_session = session.get(TherapySession, key)
    if therapy_session is None or therapy_session.deleted_at is not None:
        raise click.ClickException(f"No session {session_id}.")
    couple = session.get(Couple, therapy_session.couple_id)
    if couple is None:  # a session's couple is its foreign key: never missing
        raise click.ClickException(f"No couple for session {session_id}.")
    return couple, therapy_session


@clinic_cli.command("render-report")
@click.argument("session_id")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
def render_report_command(session_id: str, out: str) -> None:
    """Write the session report of SESSION_ID as a PDF (the stored one once signed)."""
    couple, therapy_session = _couple_for_session(session_id)
    pdf = _checked_session_pdf(couple, therapy_session, via="render-report")
    from .security.audit.log import record_event

    record_event(
        "report.print",
        actor=None,
        record=therapy_session,
        couple_id=therapy_session.couple_id,
        detail={"kind": "session", "via": "cli"},
    )
    get_state().db.session.commit()
    with open(out, "wb") as handle:
        handle.write(pdf)
    click.echo(f"Session report written to {out} ({len(pdf)} bytes).")


@clinic_cli.command("progress-report")
@click.argument("couple_id")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True)
def progress_report_command(couple_id: str, out: str) -> None:
    """Write the progress report of COUPLE_ID as a PDF."""
    import uuid

    from .models import Couple
    from .reports import service
    from .security.audit.log import record_event

    session = get_state().db.session
    try:
        couple = session.get(Couple, uuid.UUID(couple_id))
    except ValueError:
        raise click.BadParameter(f"{couple_id!r} is not a couple id") from None
    if couple is None or couple.deleted_at is not None:
        raise click.ClickException(f"No couple {couple_id}.")
    report = service.load_progress_report(couple, date.today())  # noqa: DTZ011
    pdf = service.progress_report_pdf(couple, report)
    record_event(
        "report.print",
        actor=None,
        record=couple,
        couple_id=couple.id,
        detail={"kind": "progress", "via": "cli"},
    )
    session.commit()
    with open(out, "wb") as handle:
        handle.write(pdf)
    click.echo(f"Progress report written to {out} ({len(pdf)} bytes).")


@clinic_cli.command("render-reports")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="Sessions held on or after this date (YYYY-MM-DD).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for the PDFs (made if missing).",
)
@click.option("--jobs", type=int, default=None, help="Renders at once (default: all cores).")
@click.option(
    "--queue/--no-queue",
    "on_queue",
    default=None,
    help="Render on the job queue's workers (default: when RECONNECT_CLINIC_TASK_QUEUE is "
    "set), or here.",
)
def render_reports_command(
    since: datetime, out: str, jobs: int | None, on_queue: bool | None
) -> None:
    """Write the session report of every signed note since a date, on all cores (or on
    the job queue's workers)."""
    import os
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from .reports import service
    from .reports.pdf import warm_up
    from .tasks import queue

    # attr-defined: Flask types current_app as the app, not the proxy it is.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    sessions = service.signed_notes_since(since.date())
    os.makedirs(out, exist_ok=True)
    if on_queue is None:
        on_queue = queue.enabled()
    if on_queue:
        if not queue.enabled():
            raise click.ClickException("Set RECONNECT_CLINIC_TASK_QUEUE to use the queue.")
        targets_on_queue = [(s.id, s.held_on) for s in sessions]
        get_state().db.session.commit()
        failures = _render_on_queue(targets_on_queue, out)
        click.echo(
            f"{len(targets_on_queue) - failures} reports written to {out}; {failures} failed."
        )
        if failures:
            raise SystemExit(1)
        return
    jobs = jobs or os.cpu_count() or 1
    warm_up(jobs)
    targets = [(s.id, s.couple_id, s.held_on) for s in sessions]
    # End this thread's transaction before the workers start: on SQLite it would hold
    # the write lock they need to store reports.
    get_state().db.session.commit()

    def one(session_id: object) -> str:
        # Each thread has its own app context and database session; the rendering itself
        # runs in the PDF worker processes, one per core.
        with app.app_context():
            couple, therapy_session = _couple_for_session(str(session_id))
            pdf = _checked_session_pdf(couple, therapy_session, via="render-reports")
            get_state().db.session.commit()
            path = os.path.join(out, f"session-{therapy_session.held_on}-{session_id}.pdf")
            with open(path, "wb") as handle:
                handle.write(pdf)
            get_state().db.session.remove()
            return path

    failures = 0
    with (
        ThreadPoolExecutor(max_workers=jobs) as pool,
        click.progressbar(
            length=len(targets), label=f"Rendering {len(targets)} session reports"
        ) as bar,
    ):
        futures = [pool.submit(one, session_id) for session_id, _, _ in targets]
        for future in as_completed(futures):
            try:
                future.result()
            except Exception as error:  # reported, and the batch goes on
                failures += 1
                click.echo(f"\nA report failed: {error}", err=True)
            bar.update(1)
    click.echo(f"{len(targets) - failures} reports written to {out}; {failures} failed.")
    if failures:
        raise SystemExit(1)


def _wait_for(task_id: Any, poll: float = 0.5) -> Any:
    """The opened result of a command's job once a worker has done it; a failed job
    fails the command."""
    import time

    from rq.job import Job, JobStatus

    job = Job.fetch(str(task_id), connection=_queue_connection())
    while True:
        status = job.get_status(refresh=True)
        if status == JobStatus.FINISHED:
            result = job.return_value(refresh=True)
            job.delete()
            return result
        if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            raise click.ClickException(f"Job {task_id} failed on its worker ({status}).")
        time.sleep(poll)


def _queue_connection() -> Any:
    from .tasks import queue

    return queue.connection()


def _render_on_queue(targets: list[tuple[Any, Any]], out: str, poll: float = 0.2) -> int:
    """Each session report as a job; every PDF written to ``out`` as it comes back (then
    its job, and the sealed PDF with it, is deleted from Redis). Returns the failures."""
    import os
    import time
    import uuid

    from rq.job import Job, JobStatus

    from .tasks import jobs, queue

    rq_queue = queue.get_queue()
    waiting: dict[str, tuple[uuid.UUID, str]] = {}
    for session_id, held_on in targets:
        task_id = queue.submit(
            "session-report", jobs.session_report_job, (str(session_id),), queue=rq_queue
        )
        waiting[str(task_id)] = (task_id, f"session-{held_on}-{session_id}.pdf")
    failures = 0
    ended = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
    with click.progressbar(
        length=len(waiting), label=f"Rendering {len(waiting)} session reports on the queue"
    ) as bar:
        while waiting:
            for job in Job.fetch_many(list(waiting), connection=rq_queue.connection):
                if job is None:
                    continue
                status = job.get_status(refresh=False)
                if status not in (JobStatus.FINISHED, *ended):
                    continue
                task_id, name = waiting.pop(job.id)
                if status == JobStatus.FINISHED:
                    # rq types a result as Any | None; a finished render job's is its
                    # sealed PDF (tasks/jobs.py).
                    sealed = cast(bytes, job.return_value())
                    pdf = queue.open_result(task_id, sealed)
                    with open(os.path.join(out, name), "wb") as handle:
                        handle.write(pdf)
                else:
                    failures += 1
                    click.echo(f"\nA report failed: {name} ({status})", err=True)
                job.delete()
                bar.update(1)
            if waiting:
                time.sleep(poll)
    return failures


@clinic_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
@click.option("--url", default=None, help="Redis address (default: RECONNECT_CLINIC_TASK_QUEUE).")
@click.option(
    "--queue",
    "queue_name",
    default=None,
    help="Queue name (default: RECONNECT_CLINIC_TASK_QUEUE_NAME).",
)
@click.option(
    "--pdf-workers",
    type=int,
    default=1,
    show_default=True,
    help="PDF worker processes (a worker runs one job at a time).",
)
@click.option(
    "--nice",
    type=click.IntRange(0, 19),
    default=0,
    show_default=True,
    help="Lower this worker's CPU priority (and its PDF workers'): on a machine that also "
    "serves the web, 10 keeps pages quick while a batch runs.",
)
@click.option(
    "--idle",
    is_flag=True,
    help="Run only on CPU time nothing else wants (Linux's SCHED_IDLE, with its PDF "
    "workers), for a machine that also serves the web; a batch then waits while the "
    "machine is busy. PostgreSQL only: on SQLite a starved worker would hold the one "
    "write lock the web needs.",
)
def worker_command(
    burst: bool,
    url: str | None,
    queue_name: str | None,
    pdf_workers: int,
    nice: int,
    idle: bool,
) -> None:
    """Run the clinic's queued jobs (RQ), in this process: its PDF workers start once,
    now, and stay warm between jobs. Start as many as the machine has cores, here or on
    other machines with the same configuration."""
    from rq import SimpleWorker

    from . import cpu_priority
    from .reports.pdf import warm_up
    from .tasks import jobs, queue

    if url is None and not queue.enabled():
        raise click.ClickException("Set RECONNECT_CLINIC_TASK_QUEUE (or give --url).")
    # attr-defined: Flask types current_app as the app, not the proxy it is.
    import os

    if nice:
        os.nice(nice)  # before the PDF workers start: they inherit it
    if idle:
        if not hasattr(os, "SCHED_IDLE"):
            raise click.ClickException("--idle needs Linux (SCHED_IDLE); use --nice here.")
        if get_state().db.engine.dialect.name == "sqlite":
            # Each job stores its report: a worker starved while it holds SQLite's write
            # lock would make the web's own writes wait, then fail as "database is locked".
            raise click.ClickException("--idle needs PostgreSQL; on SQLite use --nice.")
        # Inherited by the PDF workers started below; lowering needs no privilege.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    if nice or idle:
        # With autogroups the priority ranks this process only within its session; the
        # PDF workers carry it into sessions of their own as they start.
        carried = cpu_priority.carry_into_session()
        if carried == "not a session leader":
            click.echo(
                "Note: this worker shares its session (and, where Linux's autogroups are "
                "on, its CPU share) with whatever else was started from it, so --nice or "
                "--idle lowers it only against those. Its PDF workers are lowered against "
                "the whole machine; start the worker from a service manager (or with "
                "`setsid -w`, which Ctrl+C then no longer stops) to lower it too.",
                err=True,
            )
        elif carried == "no effect in a CPU cgroup":
            click.echo(
                "Note: this worker runs in a cgroup with the CPU controller on (a "
                "container, or a systemd unit), where --nice and --idle rank it only "
                "within that group; give the group a low CPU weight (systemd: "
                "CPUWeight=idle) to keep the web quick beside it.",
                err=True,
            )
        elif carried.startswith("failed"):
            click.echo(f"Warning: the session's CPU priority: {carried}.", err=True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.config["RECONNECT_CLINIC_PDF_WORKERS"] = pdf_workers
    jobs.use_app(app)
    warm_up(pdf_workers)
    rq_queue = queue.get_queue(url, queue_name)
    # SimpleWorker: every job in this process, so the warm PDF workers serve them all
    # (RQ's default worker forks a new process per job).
    worker = SimpleWorker([rq_queue], connection=rq_queue.connection)
    worker.work(burst=burst, logging_level="WARNING")


@clinic_cli.command("audit-verify")
@click.option(
    "--checkpoint",
    is_flag=True,
    help="Once verified, print a checkpoint line (line count, last hash, time, MAC) to "
    "keep somewhere the database's editors cannot reach.",
)
@click.option(
    "--against",
    "against",
    multiple=True,
    metavar="LINE",
    help="A checkpoint line printed earlier: the log must still hold that line at that "
    "place. May be given several times.",
)
@click.option(
    "--against-file",
    type=click.File("r"),
    default=None,
    help="A file of checkpoint lines kept earlier (other lines in it are skipped).",
)
def audit_verify_command(checkpoint: bool, against: tuple[str, ...], against_file: Any) -> None:
    """Check the audit log's keyed chain from its first line to its last, and hold it
    against the checkpoints of stored reports and any given here."""
    from .models import utcnow
    from .security.audit.log import (
        CHECKPOINT_PREFIX,
        checkpoint_line,
        operator_checkpoint,
        parse_checkpoint_line,
        verify_log,
    )

    lines = list(against)
    if against_file is not None:
        lines += [line for line in against_file if line.strip().startswith(CHECKPOINT_PREFIX)]
    try:
        given = [parse_checkpoint_line(line) for line in lines]
    except ValueError as error:
        raise click.ClickException(f"--against: {error}") from None
    result = verify_log(given)
    get_state().db.session.rollback()
    if result.breaks:
        for item in result.breaks[:50]:
            where = f"Line {item.event_id}" if item.event_id is not None else "Checkpoint"
            click.echo(f"{where}: {item.reason}", err=True)
        raise click.ClickException(
            f"Audit log broken: {len(result.breaks)} problem(s) in {result.checked} lines."
        )
    unkeyed = f"; {result.unkeyed} unkeyed from before keyed auditing" if result.unkeyed else ""
    click.echo(
        f"Audit log intact: {result.checked} lines, chain verified{unkeyed}; "
        f"{result.checkpoints} checkpoint(s) held."
    )
    if checkpoint:
        click.echo(checkpoint_line(operator_checkpoint(result.checked, result.head, utcnow())))


@clinic_cli.command("audit-keys")
def audit_keys_command() -> None:
    """Print the audit log's keys as settings (to carry keys derived from the encryption
    keys over to settings of their own, before an encryption key is retired)."""
    import json

    from .security.audit.log import audit_keys

    keys = audit_keys()
    if keys.derived:
        click.echo("# Derived from RECONNECT_CLINIC_ENCRYPTION_KEYS (no audit keys are set).")
    click.echo(f"RECONNECT_CLINIC_AUDIT_KEYS = {json.dumps(keys.as_config())}")
    click.echo(f"RECONNECT_CLINIC_AUDIT_KEY_ID = {json.dumps(keys.current)}")


@clinic_cli.command("new-key", needs_keys=False)
def new_key_command() -> None:
    """Print a fresh encryption key for RECONNECT_CLINIC_ENCRYPTION_KEYS."""
    from .security.encryption.cipher import new_key

    click.echo(new_key())


@clinic_cli.command("rotate-keys")
def rotate_keys_command() -> None:
    """Re-seal every encrypted value with the current key (RECONNECT_CLINIC_ENCRYPTION_KEY_ID).

    Old keys must still be listed while this runs; afterwards they can be removed. Safe
    to run again: values already under the current key are left alone.
    """
    from .security.encryption.rotation import rotate_keys

    counts = rotate_keys()
    get_state().db.session.commit()
    total = sum(counts.values())
    detail = ", ".join(f"{name}: {n}" for name, n in counts.items() if n)
    click.echo(f"Re-sealed {total} values with the current key{f' ({detail})' if detail else ''}.")
    from .security.audit.log import audit_keys

    if audit_keys().derived:
        # The audit log is never re-MACed: its old lines need their old keys for good.
        click.echo(
            "The audit log's keys are derived from the encryption keys: before removing an "
            "old encryption key, set RECONNECT_CLINIC_AUDIT_KEYS and _AUDIT_KEY_ID to what "
            "`flask clinic audit-keys` prints, or its audit lines will no longer verify."
        )


@clinic_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Act as if it were this date (YYYY-MM-DD).",
)
def purge_command(dry_run: bool, today: datetime | None) -> None:
    """Remove closed cases past their retention date (never one on legal hold)."""
    from .cases.lifecycle import purge_candidates, purge_case

    day = today.date() if today else date.today()  # noqa: DTZ011
    candidates = purge_candidates(day)
    for candidate in candidates:
        click.echo(
            f"{'Would remove' if dry_run else 'Removing'} {candidate.label} "
            f"(kept until {candidate.retention_until})"
        )
        if not dry_run:
            purge_case(candidate.couple_id)
            get_state().db.session.commit()
    if dry_run:
        get_state().db.session.rollback()
    click.echo(f"{len(candidates)} case(s) {'would be ' if dry_run else ''}removed.")
