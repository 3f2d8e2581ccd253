"""Domain exceptions. The GraphQL layer turns them into typed errors or GraphQLErrors."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    """Stable codes clients may switch on. Never renumber or rename one."""

    REQUIRED = "required"
    INVALID = "invalid"
    TOO_LONG = "too_long"
    # A list argument with more elements than the server takes (MEIJING_MAX_LIST_LENGTH).
    TOO_MANY = "too_many"
    NOT_FOUND = "not_found"
    DUPLICATE = "duplicate"
    INVALID_KIND = "invalid_kind"
    CYCLE = "cycle"
    SAME_BRANCH = "same_branch"
    INVALID_TRANSITION = "invalid_transition"
    TOO_EARLY = "too_early"
    IN_FUTURE = "in_future"
    OUT_OF_SCOPE = "out_of_scope"
    INVALID_CREDENTIALS = "invalid_credentials"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_DISABLED = "account_disabled"
    INVALID_TOKEN = "invalid_token"
    PAGE_SIZE = "page_size"
    CURSOR = "cursor"
    # Ledgers (电子台账) and study records.
    INVALID_PERIOD = "invalid_period"
    OUT_OF_RANGE = "out_of_range"
    TOO_LARGE = "too_large"
    NOT_RECIPIENT = "not_recipient"
    IN_PAST = "in_past"
    OPEN_RECIPIENTS = "open_recipients"
    # Assessment (智能考核): the active items' points must add up to 100.
    POINTS_TOTAL = "points_total"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, addressed to a field of it (None: the input as a whole)."""

    field: str | None
    message: str
    code: ErrorCode


class InputError(Exception):
    """Expected failure: the input breaks a rule. Nothing has been written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))

    @classmethod
    def one(cls, field: str | None, message: str, code: ErrorCode) -> InputError:
        return cls([Problem(field, message, code)])


class Unauthenticated(Exception):
    """No valid viewer: the token is missing, expired or revoked."""

    def __init__(self, message: str = "请先登录 (authentication required)") -> None:
        super().__init__(message)


class Forbidden(Exception):
    """The viewer's role or scope does not allow this operation."""

    def __init__(
        self, message: str = "无权执行此操作 (not allowed for your role or scope)"
    ) -> None:
        super().__init__(message)


class Collector:
    """Gathers problems so a mutation reports all of them at once, then raises if any."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str | None, message: str, code: ErrorCode) -> None:
        self.problems.append(Problem(field, message, code))

    def require_text(self, field: str, value: str | None, max_length: int) -> str | None:
        """Strips the value; records REQUIRED or TOO_LONG; returns the cleaned text."""
        cleaned = (value or "").strip()
        if not cleaned:
            self.add(field, "不能为空 (required)", ErrorCode.REQUIRED)
            return None
        return self.check_length(field, cleaned, max_length)

    def optional_text(self, field: str, value: str | None, max_length: int) -> str | None:
        if value is None:
            return None
        cleaned = value.strip()
        if not cleaned:
            return None
        return self.check_length(field, cleaned, max_length)

    def check_length(self, field: str, value: str, max_length: int) -> str:
        if len(value) > max_length:
            self.add(
                field,
                f"最多 {max_length} 个字符 (at most {max_length} characters)",
                ErrorCode.TOO_LONG,
            )
        return value

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)
