"""The kernel every floor stands on: clock, ids, sessions, settings, security, storage, observability."""
