"""``flask clinic ...``: database, demo data and accounts. Each command commits once."""

from __future__ import annotations

from datetime import date, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from . import migrate
from .state import get_state

clinic_cli = AppGroup("clinic", help="Reconnect Clinic: database, demo data and accounts.")


@clinic_cli.command("db-upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Apply the clinic's migrations to the app's database."""
    engine = get_state().db.engine
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    click.echo(f"Clinic tables at revision {after} (were at {before or 'nothing'}).")


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
    from .security.therapists import AccountError, create_therapist

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


@clinic_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Add the demo therapist and two demo couples (safe to run again)."""
    from .demo_data import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

    created = seed_demo()
    get_state().db.session.commit()
    click.echo("Demo data added." if created else "Demo data already present.")
    click.echo(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")


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
    sent, failed = send_reminders(day)
    click.echo(f"Reminders sent: {sent}; failed (will be tried again): {failed}.")
    if failed:
        raise SystemExit(1)
