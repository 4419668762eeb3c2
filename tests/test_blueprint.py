"""The clinic's blueprint is made for each app by create_blueprint, from the route
tables the views modules declare (blueprint.py, views.py)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask_sqlalchemy import SQLAlchemy

from reconnect_clinic import ReconnectClinic
from reconnect_clinic.blueprint import BLUEPRINT_NAME, RouteTable
from reconnect_clinic.readonly import read_without_transaction
from reconnect_clinic.views import route_tables
from tests.helpers import TEST_KEYS


def _host(tmp_path: Path) -> tuple[Flask, SQLAlchemy]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = Flask("host", root_path=str(tmp_path))
    app.config.update(
        SECRET_KEY="x",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'host.sqlite'}",
        RECONNECT_CLINIC_ENCRYPTION_KEYS=TEST_KEYS,
        RECONNECT_CLINIC_ENCRYPTION_KEY_ID="k1",
    )
    return app, SQLAlchemy(app)


def _view() -> str:
    return "ok"


def _hook() -> None:
    return None


def test_a_route_table_registers_nothing_until_applied():
    routes = RouteTable()
    routes.route("/here", methods=["POST"])(_view)
    assert [(r.rule, r.endpoint, r.view) for r in routes.routes] == [("/here", None, _view)]
    assert routes.routes[0].options == {"methods": ["POST"]}


def test_applying_a_table_gives_the_blueprint_its_routes_and_endpoints():
    routes = RouteTable()
    routes.route("/here")(_view)
    routes.route("/there", endpoint="elsewhere", defaults={"x": 1})(_view)
    app = Flask("t")
    bp = Blueprint("t", __name__)
    routes.apply(bp)
    app.register_blueprint(bp)
    endpoints = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints["/here"] == "t._view"
    assert endpoints["/there"] == "t.elsewhere"


def test_applying_a_table_keeps_the_order_of_its_hooks():
    def second() -> None:
        return None

    routes = RouteTable()
    routes.before_request(_hook)
    routes.before_request(second)
    bp = Blueprint("t", __name__)
    routes.apply(bp)
    assert bp.before_request_funcs[None] == [_hook, second]


def test_every_views_module_with_routes_has_its_table_listed():
    # views.py collects the tables of the modules it imports; the clinic's own are there.
    modules = {table.routes[0].view.__module__ for table in route_tables() if table.routes}
    assert "reconnect_clinic.cases.views" in modules
    assert "reconnect_clinic.homework.partner_views" in modules
    assert "reconnect_clinic.security.links.views" in modules


def test_each_app_gets_a_blueprint_of_its_own(tmp_path):
    clinic = ReconnectClinic()
    first, db1 = _host(tmp_path / "a")
    second, db2 = _host(tmp_path / "b")
    clinic.init_app(first, db=db1)
    clinic.init_app(second, db=db2)
    assert first.blueprints[BLUEPRINT_NAME] is not second.blueprints[BLUEPRINT_NAME]
    assert set(first.view_functions) == set(second.view_functions)
    assert first.test_client().get("/clinic/login").status_code == 200
    assert second.test_client().get("/clinic/login").status_code == 200


def test_the_read_only_hook_runs_before_every_other_clinic_hook(tmp_path):
    app, db = _host(tmp_path)
    ReconnectClinic().init_app(app, db=db)
    hooks = app.before_request_funcs[BLUEPRINT_NAME]
    assert hooks[0] is read_without_transaction
    assert len(hooks) > 1


def test_endpoints_keep_the_clinic_s_name(tmp_path):
    app, db = _host(tmp_path)
    ReconnectClinic().init_app(app, db=db)
    assert "reconnect_clinic.couple_detail" in app.view_functions
    assert "reconnect_clinic.homework_mine" in app.view_functions
    assert "reconnect_clinic.static" in app.view_functions


def test_there_is_no_module_level_blueprint_to_fill_by_import():
    # Routes live on each views module's own table; a module-level blueprint filled by
    # importing modules is what create_blueprint replaced.
    from reconnect_clinic import blueprint

    assert not hasattr(blueprint, "bp")
