"""Password hashing (argon2, off the event loop) and signed access tokens (JWT)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import Settings

ALGORITHM = "HS256"
ISSUER = "meijing"
_DUMMY_PASSWORD = "meijing-timing-equaliser"


def hasher_for(settings: Settings) -> PasswordHasher:
    """The argon2 hasher with the cost in `settings` (MEIJING_ARGON2_*)."""
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


class _Hashing:
    """The process's hasher and its dummy hash, both made on first use.

    Nothing is hashed at import: a process that never checks a password (the CLI, a migration,
    each test worker) does not pay for argon2. The cost comes from the environment, read once,
    unless `use_password_hasher` injected a hasher (the tests inject a cheap one).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hasher: PasswordHasher | None = None
        self._dummy: str | None = None

    def use(self, hasher: PasswordHasher | None) -> None:
        with self._lock:
            self._hasher = hasher
            self._dummy = None

    def hasher(self) -> PasswordHasher:
        hasher = self._hasher
        if hasher is None:
            with self._lock:
                if self._hasher is None:
                    self._hasher = hasher_for(Settings.from_env())
                hasher = self._hasher
        return hasher

    def dummy(self) -> str:
        """Verifying against this keeps unknown usernames as slow as known ones."""
        dummy = self._dummy
        if dummy is None:
            hasher = self.hasher()
            dummy = hasher.hash(_DUMMY_PASSWORD)
            with self._lock:
                if self._hasher is hasher:
                    self._dummy = dummy
        return dummy


_hashing = _Hashing()


def use_password_hasher(hasher: PasswordHasher | None) -> None:
    """Makes `hasher` the process's hasher; None goes back to the cost the environment sets."""
    _hashing.use(hasher)


def password_hasher() -> PasswordHasher:
    return _hashing.hasher()


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hash_password_sync, password)


def hash_password_sync(password: str) -> str:
    return _hashing.hasher().hash(password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-shape check: an unknown account still costs one argon2 verification."""

    def check() -> bool:
        try:
            hasher = _hashing.hasher()
            return hasher.verify(password_hash or _hashing.dummy(), password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(password_hash: str) -> bool:
    return _hashing.hasher().check_needs_rehash(password_hash)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    account_id: uuid.UUID
    session_id: uuid.UUID
    role: str
    expires_at: datetime


def issue_access_token(
    secret: str,
    account_id: uuid.UUID,
    session_id: uuid.UUID,
    role: str,
    now: datetime,
    lifetime: timedelta,
) -> tuple[str, datetime]:
    expires = now + lifetime
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(account_id),
        "sid": str(session_id),
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), expires


class TokenError(Exception):
    """The access token is malformed, forged or expired."""


class TokenExpired(TokenError):
    """The access token was genuine but its time is up: refresh it."""


def decode_access_token(secret: str, token: str, now: datetime) -> AccessClaims:
    """The claims of a token this service signed, still valid at `now`; TokenError otherwise."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={
                "require": ["exp", "sub", "sid", "iss"],
                # Expiry is checked below against the injectable clock, so tests travel in time.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    try:
        expires = int(payload["exp"])
        claims = AccessClaims(
            account_id=uuid.UUID(payload["sub"]),
            session_id=uuid.UUID(payload["sid"]),
            role=str(payload.get("role", "")),
            expires_at=datetime.fromtimestamp(expires, tz=now.tzinfo),
        )
    except (ValueError, TypeError, AttributeError, OverflowError, OSError) as exc:
        raise TokenError("malformed claims") from exc
    if expires <= now.timestamp():
        raise TokenExpired("token expired")
    return claims


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def next_refresh_secret(key: str, session_id: uuid.UUID, secret: str) -> str:
    """The secret that replaces `secret` on refresh.

    Derived (HMAC under the server key) rather than random, so a refresh retried with the same
    token gets the same answer: no second token is minted that a phone could fail to store.
    """
    message = f"refresh:{session_id}:{secret}".encode()
    mac = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def digest(secret: str) -> str:
    """Refresh tokens are stored only as their SHA-256: fast is safe, as they are unguessable."""
    return hashlib.sha256(secret.encode()).hexdigest()
