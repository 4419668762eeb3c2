"""Alembic migrations for the plugin's own tables, mapped to ``reconnect_clinic.migrations``."""
