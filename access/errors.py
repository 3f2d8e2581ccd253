"""Domain exceptions. The GraphQL layer turns them into typed errors or GraphQLErrors."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from core.global_id import GlobalIdError, global_id_uuid, global_id_uuid_or_none


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
    # The right password, but an admin reset it: sign in through `changePassword` instead.
    PASSWORD_CHANGE_REQUIRED = "password_change_required"
    INVALID_TOKEN = "invalid_token"
    # A refresh token that was genuine, for a session that has ended: past its lifetime, or
    # signed out (by the user, an admin, or because a rotated token was presented again).
    SESSION_EXPIRED = "session_expired"
    SESSION_REVOKED = "session_revoked"
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
    # Sync: a character no database text can hold (NUL, a lone surrogate), and a row the
    # database refused for a reason the validation did not foresee.
    INVALID_CHARACTER = "invalid_character"
    UNSTORABLE = "unstorable"


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


def from_global_id(value: str, type_name: str, field: str) -> uuid.UUID:
    """The uuid inside an argument's global id of the expected type, or an INVALID error on
    `field`."""
    try:
        return global_id_uuid(value, type_name)
    except GlobalIdError:
        raise InputError.one(
            field, f"不是有效的 {type_name} 编号 (not a {type_name} id)", ErrorCode.INVALID
        ) from None


def id_parameter(value: str, type_name: str, field: str, message: str | None = None) -> uuid.UUID:
    """A URL parameter naming a `type_name`: its global id, or the plain UUID a download link
    carries; else an INVALID error on `field` (with `message`, or the global-id one)."""
    parsed = global_id_uuid_or_none(value, type_name)
    if parsed is not None:
        return parsed
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InputError.one(
            field,
            message or f"不是有效的 {type_name} 编号 (not a {type_name} id)",
            ErrorCode.INVALID,
        ) from None


def optional_global_id(value: str | None, type_name: str, field: str) -> uuid.UUID | None:
    """`from_global_id` of an argument that may be left out."""
    return None if value is None else from_global_id(value, type_name, field)


class AuthProblem(enum.Enum):
    """Why the access token a request sent was refused.

    An app acts differently on each, so each has its own error code: it refreshes an expired
    token, and signs in again after any other refusal.
    """

    # Not an `Authorization: Bearer <token>` header at all.
    MALFORMED = "malformed"
    # Not a token this server signed, or one whose claims are broken.
    INVALID = "invalid"
    # Genuine, but past its lifetime.
    EXPIRED = "expired"
    # Genuine and in time, but its session has ended: the device was signed out, the session
    # outlived its refresh lifetime, or the account was disabled. One problem, not three: the
    # app does the same for each (sign in again), and whether an account is disabled is told
    # only to someone who knows its password, at sign-in.
    REVOKED = "revoked"


AUTH_MESSAGES: dict[AuthProblem | None, str] = {
    None: "请先登录 (authentication required)",
    AuthProblem.MALFORMED: "Authorization 须为 Bearer 令牌 (use 'Authorization: Bearer <token>')",
    AuthProblem.INVALID: "令牌无效,请重新登录 (invalid access token; sign in again)",
    AuthProblem.EXPIRED: (
        "令牌已过期,请用 refreshToken 换取新令牌 (access token expired; refresh it)"
    ),
    AuthProblem.REVOKED: (
        "该设备已退出登录或账号已停用,请重新登录 (session revoked or account disabled; "
        "sign in again)"
    ),
}


class Unauthenticated(Exception):
    """No valid viewer: no token was sent (`problem` is None), or the one sent was refused."""

    def __init__(self, problem: AuthProblem | None = None) -> None:
        self.problem = problem
        super().__init__(AUTH_MESSAGES[problem])


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
