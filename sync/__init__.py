"""Offline sync: pull, push, merge, conflicts, stream — RxDB's GraphQL replication protocol."""
