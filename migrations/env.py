"""Alembic environment for the plugin's own tables.

Run through ``reconnect_clinic.migrate`` (``flask clinic db-upgrade``), which hands in a
connection to the host's database. Only tables on the plugin's MetaData are considered,
so autogenerate never proposes to touch a host table.
"""

from alembic import context

from reconnect_clinic.migrate import VERSION_TABLE
from reconnect_clinic.models import metadata


def include_name(name, type_, parent_names):
    # Reflect only the plugin's tables; the host's (and this version table) are not ours.
    if type_ == "table":
        return name in metadata.tables
    return True


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the plugin's migrations with `flask clinic db-upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    include_name=include_name,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=True,
    compare_type=True,
    transaction_per_migration=False,
)

with context.begin_transaction():
    context.run_migrations()
