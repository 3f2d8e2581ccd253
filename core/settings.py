"""Settings, read once from the environment and frozen."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEV_SECRET_KEY = "meijing-development-secret-key-not-for-production"
DEFAULT_DEMO_PASSWORD = "meijing-demo"
GRAPHQL_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
# Room in a request body for the query text and the other fields beside an attachment.
ATTACHMENT_REQUEST_SLACK = 64 * 1024


class SettingsError(RuntimeError):
    """The configuration cannot be used (e.g. production without a real secret key)."""


def default_storage_dir() -> str:
    return str(Path.cwd() / "data" / "files")


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / 'meijing.db'}"


# The environment variables Settings.from_env reads as they are, and the setting each one sets
# (MEIJING_LOG_JSON and MEIJING_METRICS_OPERATIONS are parsed in from_env).
ENVIRONMENT: dict[str, tuple[str, type]] = {
    "MEIJING_ENV": ("env", str),
    "DATABASE_URL": ("database_url", str),
    "MEIJING_SECRET_KEY": ("secret_key", str),
    "MEIJING_ACCESS_TOKEN_MINUTES": ("access_token_minutes", int),
    "MEIJING_REFRESH_TOKEN_DAYS": ("refresh_token_days", int),
    "MEIJING_LOGIN_MAX_FAILURES": ("login_max_failures", int),
    "MEIJING_LOGIN_LOCK_MINUTES": ("login_lock_minutes", int),
    "MEIJING_ARGON2_TIME_COST": ("argon2_time_cost", int),
    "MEIJING_ARGON2_MEMORY_KIB": ("argon2_memory_kib", int),
    "MEIJING_ARGON2_PARALLELISM": ("argon2_parallelism", int),
    "MEIJING_DEMO_PASSWORD": ("demo_password", str),
    "MEIJING_MAX_PAGE_SIZE": ("max_page_size", int),
    "MEIJING_MAX_LIST_LENGTH": ("max_list_length", int),
    "MEIJING_SYNC_MAX_PULL_LIMIT": ("sync_max_pull_limit", int),
    "MEIJING_SYNC_MAX_PUSH_ROWS": ("sync_max_push_rows", int),
    "MEIJING_TOMBSTONE_DAYS": ("tombstone_days", int),
    "MEIJING_SESSION_CACHE_SECONDS": ("session_cache_seconds", float),
    "MEIJING_RESPONSE_CACHE_ENTRIES": ("response_cache_entries", int),
    "MEIJING_RESPONSE_CACHE_SECONDS": ("response_cache_seconds", float),
    "MEIJING_LOG_LEVEL": ("log_level", str),
    "MEIJING_METRICS_TOKEN": ("metrics_token", str),
    "MEIJING_STORAGE_DIR": ("storage_dir", str),
    "MEIJING_LEDGER_ATTACHMENT_MAX_BYTES": ("ledger_attachment_max_bytes", int),
    "MEIJING_MAX_BODY_BYTES": ("max_body_bytes", int),
    "MEIJING_LEDGER_GRACE_DAYS": ("ledger_grace_days", int),
    "MEIJING_REMINDER_INTERVAL_MINUTES": ("reminder_interval_minutes", float),
    "MEIJING_REMINDER_LEDGER_LEAD_DAYS": ("reminder_ledger_lead_days", int),
    "MEIJING_REMINDER_PROBATION_LEAD_DAYS": ("reminder_probation_lead_days", int),
    "MEIJING_REMINDER_DIRECTIVE_LEAD_DAYS": ("reminder_directive_lead_days", int),
    "MEIJING_REMINDER_UNSIGNED_DAYS": ("reminder_unsigned_days", int),
    "MEIJING_REMINDER_RESPONSE_DAYS": ("reminder_response_days", int),
    "MEIJING_TIMEZONE": ("timezone", str),
}


@dataclass(frozen=True, slots=True)
class Settings:
    env: str = "development"
    database_url: str = field(default_factory=default_database_url)
    secret_key: str = DEV_SECRET_KEY
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    # Password hashing (core/security.py): argon2id's cost, argon2-cffi's defaults (RFC 9106's
    # low-memory profile). Only tests lower it, to run fast.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    demo_password: str = DEFAULT_DEMO_PASSWORD
    max_query_depth: int = 10
    max_query_tokens: int = 2000
    max_aliases: int = 30
    max_page_size: int = 100
    # The most elements any list argument may have (a push's rows have their own limit below).
    max_list_length: int = 1000
    default_page_size: int = 20
    session_cache_seconds: float = 5.0
    # Whole-response cache for repeated queries (0 entries turns it off); see core/response_cache.py.
    response_cache_entries: int = 128
    response_cache_seconds: float = 30.0
    # Sync: the largest pull page and push batch a phone may ask for, and how long tombstones
    # are kept (a device whose checkpoint is older must resync).
    sync_max_pull_limit: int = 1000
    sync_max_push_rows: int = 1000
    tombstone_days: int = 180
    # Ledgers: uploaded files (core/storage.py), the largest attachment, and the days after a
    # ledger period ends before an entry recorded for it counts as late.
    storage_dir: str = field(default_factory=default_storage_dir)
    ledger_attachment_max_bytes: int = 10 * 1024 * 1024
    # The largest request body (413 beyond it). It must carry the largest attachment, which
    # travels base64-encoded inside a mutation (`check` refuses a smaller limit), and the largest
    # push batch a phone sends: 50 rows of the longest patrols are about 8 MB.
    max_body_bytes: int = 16 * 1024 * 1024
    ledger_grace_days: int = 7
    # Supervision reminders (resolvers/reminder.py): minutes between in-process generation runs
    # while serving (0 turns it off, e.g. when cron runs `meijing reminders run`), and the rules:
    # days before a ledger sub-period ends, before probation ends and before a directive's
    # deadline to remind; days a dispatched directive may stay unsigned; days given to answer a
    # reminder raised about something already late.
    reminder_interval_minutes: float = 60
    reminder_ledger_lead_days: int = 7
    reminder_probation_lead_days: int = 30
    reminder_directive_lead_days: int = 3
    reminder_unsigned_days: int = 2
    reminder_response_days: int = 7
    log_json: bool = True
    log_level: str = "INFO"
    # /metrics (core/observability.py): the bearer token Prometheus sends. Without one, a
    # production server serves no /metrics at all; development serves it to anyone.
    metrics_token: str | None = None
    # Operation names the metrics count by, besides those the schema knows (root fields, and the
    # names RxDB's builders give them): a client's other names are counted as "other".
    metrics_operations: tuple[str, ...] = ()
    # The bureau's time zone (an IANA name): every DateTime of the web surface is given in it, so
    # a visit entered as 18:00+08:00 comes back as 18:00+08:00. The sync wire keeps instants as
    # the phone sent them. Period calendars use the bureau's UTC+8 (resolvers/period.py).
    timezone: str = "Asia/Shanghai"

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check(self) -> None:
        """Refuse configurations that must never serve real traffic."""
        weak_key = self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        if self.production and weak_key:
            raise SettingsError(
                "MEIJING_SECRET_KEY must be set to a random value of at least 32 characters "
                "when MEIJING_ENV=production"
            )
        if self.production and self.metrics_token is not None and len(self.metrics_token) < 32:
            raise SettingsError(
                "MEIJING_METRICS_TOKEN must be a random value of at least 32 characters "
                "when MEIJING_ENV=production (or unset, to serve no /metrics)"
            )
        if not known_timezone(self.timezone):
            raise SettingsError(f"MEIJING_TIMEZONE is not a known time zone: {self.timezone}")
        bad = [n for n in self.metrics_operations if not GRAPHQL_NAME.fullmatch(n)]
        if bad:
            raise SettingsError(
                f"MEIJING_METRICS_OPERATIONS holds names GraphQL does not allow: {', '.join(bad)}"
            )
        # Base64 takes 4 bytes for every 3.
        attachment_body = -(-self.ledger_attachment_max_bytes // 3) * 4 + ATTACHMENT_REQUEST_SLACK
        if self.max_body_bytes < attachment_body:
            raise SettingsError(
                f"MEIJING_MAX_BODY_BYTES ({self.max_body_bytes}) must be at least "
                f"{attachment_body}, so that a ledger attachment of "
                f"MEIJING_LEDGER_ATTACHMENT_MAX_BYTES ({self.ledger_attachment_max_bytes}) fits "
                "in a request, base64-encoded"
            )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        for var, (name, kind) in ENVIRONMENT.items():
            raw = env.get(var)
            if raw is not None and raw != "":
                kwargs[name] = kind(raw)
        if "MEIJING_LOG_JSON" in env:
            kwargs["log_json"] = env["MEIJING_LOG_JSON"].lower() not in {"0", "false", "no"}
        if env.get("MEIJING_METRICS_OPERATIONS"):
            names = env["MEIJING_METRICS_OPERATIONS"].split(",")
            kwargs["metrics_operations"] = tuple(n.strip() for n in names if n.strip())
        if "database_url" in kwargs:
            kwargs["database_url"] = normalise_database_url(str(kwargs["database_url"]))
        return cls(**kwargs)  # type: ignore[arg-type]


def known_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs people paste and pick the async drivers Meijing uses."""
    for plain, async_ in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return async_ + url[len(plain) :]
    return url
