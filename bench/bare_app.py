"""The baseline of bench/bench_load.py: a bare Flask + SQLAlchemy page that lists 40 rows.

What a minimal app on the same stack costs per request: Flask, Flask-SQLAlchemy with its
default engine and pool, one ``SELECT`` of 40 rows, and a Jinja template that extends a
layout and renders each row as the clinic's dashboard does (a link built with
``url_for``, the status capitalised, the two partners' names, the date opened). No login,
no session, no audit log, no SQLite pragmas: everything the clinic adds on top of this
is what the benchmark's ratio measures.

The rows are the same 40 couples (same labels and names, see :func:`couple_names`) that
bench/bench_load.py gives the therapist, so both pages send about as much HTML.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

FIRST_NAMES = (
    *("Alex", "Blake", "Casey", "Drew", "Emery", "Finley", "Gray", "Harper", "Indy"),
    *("Jordan", "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese"),
    *("Sage", "Taylor", "Uma", "Val", "Wren", "Yael"),
)
LAST_NAMES = (
    *("Abara", "Baptiste", "Castillo", "Dubois", "Eriksen", "Fontaine", "Gallagher"),
    *("Haddad", "Ivanova", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura"),
    *("Okonkwo", "Petrov"),
)


def couple_names(count: int) -> list[tuple[str, str, str, str, str]]:
    """``count`` invented couples: (label, first A, last A, first B, last B), each
    labelled with the partners' last names and a number, as a therapist might name them."""
    couples = []
    for n in range(count):
        last_a = LAST_NAMES[n % len(LAST_NAMES)]
        last_b = LAST_NAMES[(n * 7 + 3) % len(LAST_NAMES)]
        first_a = FIRST_NAMES[n % len(FIRST_NAMES)]
        first_b = FIRST_NAMES[(n * 5 + 11) % len(FIRST_NAMES)]
        label = last_a if last_a == last_b else f"{last_a}–{last_b}"
        couples.append((f"{label} {n + 1:02d}", first_a, last_a, first_b, last_b))
    return couples


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BareCouple(Base):
    __tablename__ = "bench_bare_couple"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    label: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(20))
    opened_on: Mapped[date]
    closed_on: Mapped[date | None] = mapped_column(default=None)
    partner_a: Mapped[str] = mapped_column(sa.String(200))
    partner_b: Mapped[str] = mapped_column(sa.String(200))


# The same shape as the clinic's dashboard: a layout with a header and navigation, and a
# list whose every row has a link, a status and the names (autoescaped: the names are
# ".html" templates, so Flask turns escaping on as it does for the clinic's).
TEMPLATES = {
    "layout.html": """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{% endblock %} · {{ practice }}</title>
  <link rel="stylesheet" href="{{ url_for('static', filename='bare.css') }}">
</head>
<body>
  <header class="site-header">
    <span class="brand">{{ practice }}</span>
    <nav aria-label="Main">
      <a href="{{ url_for('couples') }}">Couples</a>
      <a href="{{ url_for('couples', show='all') }}">All</a>
    </nav>
  </header>
  <main id="main">{% block content %}{% endblock %}</main>
</body>
</html>
""",
    "couples.html": """{% extends "layout.html" %}
{% block title %}Couples{% endblock %}
{% block content %}
<h1>Couples</h1>
<ul class="case-list">
  {% for couple in couples %}
  <li class="case">
    <a class="case-name" href="{{ url_for('couple', couple_id=couple.id) }}">{{ couple.label }}</a>
    <span class="status status-{{ couple.status }}">{{ couple.status|capitalize }}</span>
    <span class="meta">{{ couple.partner_a }} · {{ couple.partner_b }}</span>
    <span class="meta">Opened {{ couple.opened_on.isoformat() }}
      {%- if couple.closed_on %}, closed {{ couple.closed_on.isoformat() }}{% endif %}</span>
  </li>
  {% endfor %}
</ul>
{% endblock %}
""",
}


def create_bare_app(database_url: str) -> Flask:
    """The bare app on ``database_url`` (its table made by :func:`seed_bare`)."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    app.jinja_loader = DictLoader(TEMPLATES)
    db.init_app(app)

    @app.get("/bare/")
    def couples() -> str:
        rows = db.session.scalars(sa.select(BareCouple).order_by(BareCouple.label)).all()
        return render_template("couples.html", couples=rows, practice="Bare baseline")

    @app.get("/bare/<uuid:couple_id>")
    def couple(couple_id: uuid.UUID) -> str:  # only a target for url_for
        return str(couple_id)

    return app


def seed_bare(database_url: str, count: int, *, today: date) -> None:
    """Make the table and put ``count`` couples in it (after emptying it)."""
    engine = sa.create_engine(database_url)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(sa.delete(BareCouple))
            connection.execute(
                sa.insert(BareCouple),
                [
                    {
                        "id": uuid.uuid4(),
                        "label": label,
                        "status": "paused" if n % 9 == 4 else "active",
                        "opened_on": today - timedelta(days=7 + 3 * n),
                        "partner_a": f"{first_a} {last_a}",
                        "partner_b": f"{first_b} {last_b}",
                    }
                    for n, (label, first_a, last_a, first_b, last_b) in enumerate(
                        couple_names(count)
                    )
                ],
            )
    finally:
        engine.dispose()
