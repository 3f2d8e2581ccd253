"""Meijing service: settings, app factory, auth, CLI."""
