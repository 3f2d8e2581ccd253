"""Free-text merge benchmark: merge3 with the line matcher sync/merge.py uses, and others.

    .venv/bin/python bench/merge.py [--repeat 5]

A text merge runs inside a push's transaction, with the document's row locked, so its worst
case matters as much as its usual one. Texts are at most 2,000 characters (sync/collection.py),
so at most 1,000 non-empty lines. For each case the script runs merge3 with the matcher
sync/merge.py uses (patience diff) and, for comparison, with difflib's matcher as merge3 uses it
by default (autojunk on) and with autojunk off. It prints milliseconds per merge (the best of
`--repeat` runs; a merge slower than 10 s is not repeated) and, in brackets, how many ancestor
lines ended in conflicting places (fewer is a better alignment).
"""

from __future__ import annotations

import argparse
import difflib
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from merge3 import Merge3

from sync.merge import LINE_MATCHER, text_lines

LIMIT_S = 10.0

Runner = Callable[[str, str, str], int]


class _NoAutojunk(difflib.SequenceMatcher[str]):
    def __init__(self, isjunk: Any = None, a: Sequence[str] = (), b: Sequence[str] = ()) -> None:
        super().__init__(isjunk, a, b, autojunk=False)


def _merge3(matcher: Any) -> Runner:
    """A merge with `matcher`, returning the number of ancestor lines in conflicting places."""

    def run(ancestor: str, client: str, server: str) -> int:
        base, ours, theirs = text_lines(ancestor), text_lines(server), text_lines(client)
        groups = Merge3(base, ours, theirs, sequence_matcher=matcher).merge_groups()
        return sum(len(group[1]) for group in groups if group[0] == "conflict")

    return run


def _notes(count: int, start: int = 0) -> list[str]:
    return [f"11月{1 + i % 28}日 {i:03d} 群众反映路灯坏了,已联系电工" for i in range(start, count)]


def cases() -> dict[str, tuple[str, str, str]]:
    """(ancestor, client, server) texts, each within the 2,000-character limit."""
    notes = _notes(60)
    repeated = ["已回访"] * 400 + _notes(10)
    return {
        "two officers append a note (5 notes)": (
            "\n".join(notes[:5]),
            "\n".join([*notes[:5], "手机A 补充"]),
            "\n".join([*notes[:5], "手机B 补充"]),
        ),
        "both change the same line (60 notes)": (
            "\n".join(notes),
            "\n".join([*notes[:30], "手机A 改写", *notes[31:]]),
            "\n".join([*notes[:30], "手机B 改写", *notes[31:]]),
        ),
        "400 x 已回访 + 10 notes, both append": (
            "\n".join(repeated),
            "\n".join([*repeated, "手机A 补充"]),
            "\n".join([*repeated, "手机B 补充"]),
        ),
        "1,000 lines of one kind": (
            "\n".join("x" * 1000),
            "\n".join("x" * 999 + "y"),
            "z\n" + "\n".join("x" * 999),
        ),
        "1,000 lines of two kinds": (
            "\n".join("xy" * 500),
            "\n".join("yx" * 500),
            "\n".join("x" * 1000),
        ),
    }


def measure(run: Runner, texts: tuple[str, str, str], repeat: int) -> str:
    times: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        conflicting = run(*texts)
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        if elapsed > LIMIT_S:
            return f"{elapsed:.0f} s ({conflicting})"
    return f"{min(times) * 1000:.2f} ({conflicting})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runners: dict[str, Runner] = {
        "patience (shipped)": _merge3(LINE_MATCHER),
        "difflib, autojunk": _merge3(difflib.SequenceMatcher),
        "difflib, no autojunk": _merge3(_NoAutojunk),
    }
    print(f"{platform.machine()}, Python {platform.python_version()}, best of {args.repeat}")
    print("| case | " + " | ".join(f"{name}: ms (lines in conflict)" for name in runners) + " |")
    print("|---|" + "---:|" * len(runners))
    for name, texts in cases().items():
        assert all(len(t) <= 2000 for t in texts), name
        cells = [measure(run, texts, args.repeat) for run in runners.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
