"""Shared by the batch functions behind DataLoaders: results in the order of the keys."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def group_by_key(keys: Sequence[K], pairs: Iterable[tuple[K, V]]) -> list[list[V]]:
    """One list per key, in key order (empty where nothing matched), keeping the pairs' order."""
    groups: dict[K, list[V]] = {key: [] for key in keys}
    for key, value in pairs:
        groups[key].append(value)
    return [groups[key] for key in keys]
