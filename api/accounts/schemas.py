"""The accounts API's bodies and answers (:mod:`api.routes.auth`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.accounts.otp import CODE_DIGITS, normal_email, valid_email


class _Email(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254, description="the address codes are mailed to")

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        value = normal_email(value)
        if not valid_email(value):
            raise ValueError("not an e-mail address")
        return value


class CodeRequest(_Email):
    """Ask for a sign-in code by mail."""


class SignUp(_Email):
    """A new rider: name, e-mail address and, optionally, a phone number."""

    name: str = Field(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^\+?[0-9 ()./-]+$")


class EmailChange(_Email):
    """The new address a signed-in user wants; a code that confirms it is mailed there."""


class EmailChanged(BaseModel):
    """The address the account uses from now on."""

    email: str


class CodeProof(_Email):
    """The code mailed to an address."""

    code: str = Field(pattern=rf"^[0-9]{{{CODE_DIGITS}}}$", description=f"the {CODE_DIGITS} digits mailed")


class RefreshRequest(BaseModel):
    """A refresh token to renew a session with (each one works once)."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=10, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")


class KeyExchange(BaseModel):
    """A device's API key, exchanged for a session (the key itself then need not be kept)."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(min_length=10, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")


class Accepted(BaseModel):
    """The same answer whether or not the address has an account."""

    message: str


class TokensPublic(BaseModel):
    """A session's tokens: the access token (``Authorization: Bearer``) for ``expires_in`` seconds, and
    the refresh token that renews it once."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    session_id: str


class TicketPublic(BaseModel):
    """A single-use ticket that opens one live stream (``?ticket=``) within ``expires_in`` seconds."""

    ticket: str
    expires_in: int


class SessionPublic(BaseModel):
    """A signed-in device of a user, as operators see it."""

    id: str
    provider: str
    device: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
