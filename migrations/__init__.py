"""Alembic migrations. `app.migrate` finds this folder through the package, from any cwd."""
