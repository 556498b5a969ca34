"""Data protection: a rider's copy of their data and its erasure, operators' erasure on a rider's request,
the retention settings, and the public privacy page. Handlers parse, authorise, call
:mod:`api.services.privacy`, :mod:`api.services.privacy_settings` or :mod:`api.services.privacy_page` and
serialise; errors become answers in :mod:`api.errors`.

``/v1/rider/me…`` is for riders (403 for the other roles), ``/v1/operator/…`` for operators; a missing or
invalid key is 401. ``/privacy`` needs no key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from api.db.models import User, UserRole
from api.deps import DispatchDep, Operator, SessionDep, SettingsDep, require_role
from api.schemas import ErasurePublic, ErrorPublic, PrivacySettingsBody, Responses, RetentionPublic
from api.services import privacy, privacy_page, privacy_settings
from api.services.retention import road_cells

router = APIRouter(tags=["privacy"])

Rider = Annotated[User, Depends(require_role(UserRole.RIDER))]
RiderId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AUTH_ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
                          403: {"model": ErrorPublic, "description": "another role"}}
ERASE_ERRORS: Responses = {**AUTH_ERRORS, 404: {"model": ErrorPublic, "description": "unknown_rider"},
                           409: {"model": ErrorPublic, "description": "rider_on_board"},
                           422: {"model": ErrorPublic}}


def _id(user: User) -> int:
    assert user.id is not None, "users come from the database"
    return user.id


@router.get("/v1/rider/me/export", responses=AUTH_ERRORS)
def export_me(user: Rider, live: DispatchDep, session: SessionDep) -> dict[str, Any]:
    """Everything the service keeps about you, as JSON: your account, your bookings with every stored
    field, the event log's entries about them."""
    return privacy.export_rider(session, rider_id=_id(user), now=live.clock.now_datetime())


@router.delete("/v1/rider/me", responses=ERASE_ERRORS)
def erase_me(request: Request, user: Rider, live: DispatchDep, session: SessionDep) -> ErasurePublic:
    """Close your account and erase your data: your key stops working, open bookings are cancelled,
    your bookings keep no link to you and only coarse places; erasing again changes nothing."""
    return privacy.erase_rider(live, session, rider_id=_id(user), by=user, cell_node=road_cells(live.network),
                               board=request.app.state.revocations)


@router.get("/v1/operator/riders/{rider_id}/export", responses=ERASE_ERRORS)
def export_rider(rider_id: RiderId, user: Operator, live: DispatchDep, session: SessionDep) -> dict[str, Any]:
    """A rider's data as ``GET /v1/rider/me/export`` gives it them (for a rider who asks by phone)."""
    return privacy.export_rider(session, rider_id=rider_id, now=live.clock.now_datetime())


@router.delete("/v1/operator/riders/{rider_id}", responses=ERASE_ERRORS)
def erase_rider(request: Request, rider_id: RiderId, user: Operator, live: DispatchDep, session: SessionDep
                ) -> ErasurePublic:
    """Erase a rider's data on their request, as ``DELETE /v1/rider/me`` does."""
    return privacy.erase_rider(live, session, rider_id=rider_id, by=user, cell_node=road_cells(live.network),
                               board=request.app.state.revocations)


@router.get("/v1/operator/retention", responses=AUTH_ERRORS)
def read_retention(user: Operator, session: SessionDep) -> RetentionPublic:
    """The privacy settings in force (retention days, the riders' and drivers' windows) and the last
    retention run's counts."""
    return privacy_settings.read_retention(session)


@router.put("/v1/operator/retention", responses={**AUTH_ERRORS, 422: {"model": ErrorPublic}})
def change_retention(body: PrivacySettingsBody, user: Operator, session: SessionDep) -> RetentionPublic:
    """Put new privacy settings in force; the previous versions are kept."""
    return privacy_settings.change_settings(session, user=user, body=body)


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
def privacy_notice(session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The privacy notice, German and English: what is stored, for how long, the rider's rights, whom
    to contact."""
    return HTMLResponse(privacy_page.render(settings, privacy_settings.settings_in_force(session)),
                        headers={"Cache-Control": "no-cache"})
