"""Accounts: sign-up and sign-in with a code mailed to an e-mail address, a signed-in user's change of
address (proved by a code mailed to the new one), session renewal, signing out, tickets for the live
streams, and operators' view and revocation of a user's sessions (see :mod:`api.accounts`).

The code endpoints answer 202 with the same body whether or not the address has an account, and do
their work (look-up, code, mail) after answering. Codes asked for and codes tried are rate-limited per
address (its digest) and per client address (429 ``rate_limited``). Wrong, used or expired codes,
refresh tokens and keys are 401 ``unauthenticated``; a refresh token used twice also revokes its
session, and every revocation closes the streams it opened at once (:mod:`api.accounts.revocation`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Request, Response, status
from sqlmodel import Session

from api.accounts.admin import sign_out_everywhere
from api.accounts.email_change import begin_change, confirm_change, tell_old_address
from api.accounts.identity import EmailCodeProvider
from api.accounts.otp import Signup
from api.accounts.revocation import Revocation, RevocationBoard
from api.accounts.schemas import (
    Accepted,
    CodeProof,
    CodeRequest,
    EmailChange,
    EmailChanged,
    KeyExchange,
    RefreshRequest,
    SessionPublic,
    SignUp,
    TicketPublic,
    TokensPublic,
)
from api.accounts.sessions import (
    IssuedTokens,
    RefreshRefused,
    issue_ticket,
    renew,
    revoke_session,
    start_session,
    user_sessions,
)
from api.accounts.tokens import digest
from api.auth import EVERYTHING, KEY, authenticate
from api.db.models import AuthSession, User
from api.deps import CurrentCaller, Operator, SessionDep, SettingsDep
from api.errors import NotFound, Unauthenticated, Unavailable
from api.rate_limits import Action, RateLimits
from api.routes.rider import MAX_ROW_NUMBER
from api.schemas import ErrorPublic

router = APIRouter(prefix="/v1/auth", tags=["accounts"])
operator_router = APIRouter(prefix="/v1/operator/users", tags=["accounts"])

ACCEPTED = ("If the address can be used, a message with a code is on its way to it. "
            "The code is valid for a few minutes.")
SESSION_ID = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
USER_ID = Annotated[int, Path(ge=1, le=MAX_ROW_NUMBER)]  # a database integer (bigger: 422, not a 500)


def _provider(request: Request) -> EmailCodeProvider:
    provider: EmailCodeProvider | None = request.app.state.email_codes
    if provider is None:
        raise Unavailable("mail_unavailable", "sign-in by e-mail code needs a mail server (RUFBUS_SMTP_HOST)")
    return provider


async def _limit(request: Request, action: Action, email: str) -> None:
    limits: RateLimits = request.app.state.rate_limits
    await limits.check(action, account=digest(email)[:32],
                       address=request.client.host if request.client else None)


def _tokens(issued: IssuedTokens) -> TokensPublic:
    return TokensPublic(access_token=issued.access_token, refresh_token=issued.refresh_token,
                        expires_in=issued.expires_in, session_id=issued.session_id)


def _board(request: Request) -> RevocationBoard:
    return request.app.state.revocations


@router.post("/code", status_code=status.HTTP_202_ACCEPTED)
async def ask_for_code(body: CodeRequest, request: Request, background: BackgroundTasks) -> Accepted:
    """Mail a sign-in code to ``email`` (valid minutes, a few attempts). The answer is the same whether
    or not the address has an account."""
    provider = _provider(request)
    await _limit(request, Action.SIGN_IN_CODE, body.email)
    background.add_task(provider.begin_sign_in, body.email)
    return Accepted(message=ACCEPTED)


@router.post("/sign-up", status_code=status.HTTP_202_ACCEPTED)
async def sign_up(body: SignUp, request: Request, background: BackgroundTasks) -> Accepted:
    """Sign up as a rider: a code that confirms it is mailed to ``email`` (POST /v1/auth/verify makes the
    account). The answer is the same whether or not the address already has an account."""
    provider = _provider(request)
    await _limit(request, Action.SIGN_IN_CODE, body.email)
    background.add_task(provider.begin_sign_up, body.email, Signup(body.name.strip(), body.phone))
    return Accepted(message=ACCEPTED)


@router.post("/verify", responses={401: {"description": "wrong, used up or expired code"}})
async def verify(body: CodeProof, request: Request, settings: SettingsDep) -> TokensPublic:
    """Sign in with the code mailed to ``email``: a new session's tokens."""
    provider = _provider(request)
    await _limit(request, Action.SIGN_IN, body.email)
    now = request.app.state.auth_clock()

    def sign_in() -> IssuedTokens | None:
        with Session(request.app.state.engine) as session:
            user = provider.verify(session, {"email": body.email, "code": body.code}, now=now)
            if user is None:
                return None
            return start_session(session, user, policy=settings.token_policy, now=now,
                                 provider=provider.name, device=request.headers.get("user-agent"))

    issued = await asyncio.to_thread(sign_in)
    if issued is None:
        raise Unauthenticated("the code is wrong, used up or expired: ask for a new one")
    return _tokens(issued)


@router.post("/email", status_code=status.HTTP_202_ACCEPTED, responses={503: {"model": ErrorPublic}})
async def change_email(body: EmailChange, caller: CurrentCaller, request: Request, settings: SettingsDep,
                       background: BackgroundTasks) -> Accepted:
    """Ask to use ``email`` as the caller's address from now on: a code that confirms it is mailed there
    (POST /v1/auth/email/verify sets it). The answer is the same whether or not another account has the
    address (that address is then told so, and nothing changes)."""
    provider = _provider(request)  # 503 without a mail server
    await _limit(request, Action.SIGN_IN_CODE, body.email)
    assert caller.user.id is not None, "users come from the database"
    background.add_task(begin_change, request.app.state.engine, provider.mail_server, user_id=caller.user.id,
                        email=body.email, policy=settings.code_policy, now=request.app.state.auth_clock())
    return Accepted(message=ACCEPTED)


@router.post("/email/verify", responses={409: {"model": ErrorPublic}, 422: {"model": ErrorPublic}})
async def confirm_email(body: CodeProof, caller: CurrentCaller, request: Request, settings: SettingsDep,
                        background: BackgroundTasks) -> EmailChanged:
    """Use ``email`` as the caller's address from now on, with the code mailed to it for the caller (422
    ``invalid_code`` for a wrong, used or expired one; 409 ``email_taken`` if another account took the
    address meanwhile). The address it replaces is told of the change."""
    await _limit(request, Action.SIGN_IN, body.email)

    def confirm() -> str | None:
        with Session(request.app.state.engine) as session:
            return confirm_change(session, caller.user, email=body.email, code=body.code,
                                  policy=settings.code_policy, now=request.app.state.auth_clock())

    previous = await asyncio.to_thread(confirm)
    assert caller.user.id is not None, "users come from the database"
    request.app.state.keys.forget(caller.user.id, EVERYTHING)  # the cached user holds the old address
    server = settings.mail_server
    if previous is not None and previous != body.email and server is not None:
        background.add_task(tell_old_address, server, previous)
    return EmailChanged(email=body.email)


@router.post("/device", responses={401: {"description": "unknown, expired or revoked API key"}})
def exchange_key(body: KeyExchange, request: Request, session: SessionDep, settings: SettingsDep
                 ) -> TokensPublic:
    """A session for the holder of an API key (a driver's tablet signing in once): the page keeps the
    session's refresh token, not the key. Rotating or revoking the key ends these sessions too."""
    now = request.app.state.auth_clock()
    user = authenticate(session, body.api_key, now=now)
    if user is None:
        raise Unauthenticated("the API key is unknown, expired or revoked, or its user inactive")
    return _tokens(start_session(session, user, policy=settings.token_policy, now=now, provider="api_key",
                                 device=request.headers.get("user-agent")))


@router.post("/refresh", responses={401: {"description": "unknown or used refresh token, or ended session"}})
def refresh(body: RefreshRequest, request: Request, session: SessionDep, settings: SettingsDep
            ) -> TokensPublic:
    """Renew a session: new access and refresh tokens for a refresh token, which is then used up. A
    refresh token used a second time revokes its session."""
    try:
        issued = renew(session, body.refresh_token, policy=settings.token_policy,
                       now=request.app.state.auth_clock())
    except RefreshRefused as refused:
        if refused.revoked is not None:
            _board(request).announce(Revocation(refused.revoked.user_id, refused.revoked.id))
        raise Unauthenticated(str(refused)) from refused
    return _tokens(issued)


@router.post("/sign-out", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(caller: CurrentCaller, request: Request, session: SessionDep) -> Response:
    """End the caller's session (its tokens stop working and its streams close). With an API key there
    is no session: nothing changes."""
    if caller.scope != KEY:
        revoke_session(session, caller.scope, reason="signed_out", now=request.app.state.auth_clock())
        assert caller.user.id is not None, "users come from the database"
        _board(request).announce(Revocation(caller.user.id, caller.scope))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/ws-ticket", status_code=status.HTTP_201_CREATED)
def ws_ticket(caller: CurrentCaller, request: Request, session: SessionDep, settings: SettingsDep
              ) -> TicketPublic:
    """A single-use ticket that opens one live stream (``?ticket=``) within seconds, as the caller."""
    assert caller.user.id is not None, "users come from the database"
    ticket = issue_ticket(session, user_id=caller.user.id,
                          session_id=None if caller.scope == KEY else caller.scope,
                          policy=settings.token_policy, now=request.app.state.auth_clock())
    return TicketPublic(ticket=ticket, expires_in=settings.token_policy.ticket_ttl_s)


@operator_router.get("/{user_id}/sessions")
def list_sessions(user_id: USER_ID, _: Operator, session: SessionDep) -> list[SessionPublic]:
    """A user's sessions (signed-in devices), newest first, ended ones included."""
    if session.get(User, user_id) is None:
        raise NotFound("unknown_user", f"no user with id {user_id}")
    rows = user_sessions(session, user_id)
    return [SessionPublic.model_validate(row, from_attributes=True) for row in rows]


@operator_router.post("/{user_id}/sessions/{session_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke_one(user_id: USER_ID, session_id: SESSION_ID, _: Operator, request: Request, session: SessionDep
               ) -> Response:
    """End one session of a user now: its tokens stop working and its open streams close."""
    row = session.get(AuthSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound("unknown_session", f"user {user_id} has no session {session_id}")
    revoke_session(session, session_id, reason="operator", now=request.app.state.auth_clock())
    _board(request).announce(Revocation(user_id, session_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@operator_router.post("/{user_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke_all(user_id: USER_ID, _: Operator, request: Request, session: SessionDep) -> Response:
    """Sign a user out everywhere: every session ends and their API key is taken away; their open
    streams close. They can sign in again with a code (deactivate them to stop that)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("unknown_user", f"no user with id {user_id}")
    now = request.app.state.auth_clock()
    for revocation in sign_out_everywhere(session, user, reason="operator", now=now):
        _board(request).announce(revocation)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
