"""The operator's tariff: read it and set a new version. Handlers parse, authorise, call
:mod:`api.services.tariff` and serialise.

Only operators get through (riders and drivers 403, a missing or invalid key 401); an invalid tariff
(negative, non-finite or huge prices, unknown passenger categories, an incomplete zone matrix) is 422.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import DispatchDep, Operator, SessionDep
from api.routes.operator import AUTH_ERRORS
from api.schemas import ErrorPublic, Responses, TariffBody, TariffPublic
from api.services import tariff

router = APIRouter(prefix="/v1/operator", tags=["operator"])

INVALID: Responses = {**AUTH_ERRORS, 422: {"model": ErrorPublic, "description": "invalid_request"}}


@router.get("/tariff", responses=AUTH_ERRORS)
def read_tariff(user: Operator, live: DispatchDep, session: SessionDep) -> TariffPublic:
    """The tariff in force (``tariff`` null, version null, before any was set: offers carry no fare)."""
    return tariff.tariff_in_force(session, live.clock.zone)


@router.put("/tariff", responses=INVALID)
def change_tariff(body: TariffBody, user: Operator, live: DispatchDep, session: SessionDep) -> TariffPublic:
    """Set the tariff: a distance or zone scheme, concessions per passenger category, currency and
    rounding. Every new offer is priced by it; open offers and bookings keep their fares. The previous
    versions are kept."""
    return tariff.change_tariff(session, user=user, body=body, now=live.clock.now_datetime())
