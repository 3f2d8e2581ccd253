"""Runs the Alembic migrations from code (`meijing db upgrade`, tests), from any working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

import migrations
from core.settings import normalise_database_url

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent


def alembic_config(database_url: str | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations; no alembic.ini is read."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Attributes, not main options: ConfigParser would take a "%" in a password for interpolation.
    if database_url is not None:
        config.attributes["database_url"] = normalise_database_url(database_url)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrades the database to `revision`. Runs its own event loop: call it outside one."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Downgrades the database to `revision` (by default: no tables left)."""
    command.downgrade(alembic_config(database_url), revision)


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Upgrades through an open connection, e.g. `await conn.run_sync(upgrade_connection)`."""
    command.upgrade(alembic_config(connection=connection), revision)


def downgrade_connection(connection: Connection, revision: str = "base") -> None:
    command.downgrade(alembic_config(connection=connection), revision)
