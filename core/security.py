"""Password hashing (argon2, off the event loop) and signed access tokens (JWT)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verifying against this keeps unknown usernames as slow as known ones.
_DUMMY_HASH = _hasher.hash("meijing-timing-equaliser")
ALGORITHM = "HS256"
ISSUER = "meijing"


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-shape check: an unknown account still costs one argon2 verification."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


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
