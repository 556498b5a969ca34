"""Who may call what: API keys as bearer tokens, the role × endpoint matrix of every route (riders',
drivers' and operators'), riders' isolation from each other, demo users at start and
``rufbus user create``."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import timedelta
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from api.app import create_app
from api.auth import InvalidUser, authenticate, create_user, hash_key
from api.cli import app as cli
from api.clock import ServiceClock
from api.db.models import Booking, User
from api.db.session import create_db_engine
from api.settings import DEFAULT_DATABASE_URL, Settings
from dispatch.model import ServiceRules
from tests.api.conftest import NOW, SCHAAN, VADUZ, ZONE, AppSetup

CLIENT = AppSetup(settings={"simulation_max_active": 100})  # the matrix starts a simulation per call
PRINCIPALS = ("anonymous", "wrong_token", "inactive", "rider", "other_rider", "driver", "operator")
TRIP_MINUTES = count(0, 7)  # every trip leaves at another time, so that the buses never fill up


@pytest.fixture(scope="module")
def client(module_client: TestClient) -> TestClient:
    """One app for the module on its own SQLite file at 08:00 local; no default credentials."""
    return module_client


@pytest.fixture(scope="module")
def headers(client) -> dict[str, dict[str, str]]:
    """Authorization headers per principal (rider owns the bookings the matrix acts on)."""
    made = {}
    with Session(client.app.state.engine) as session:
        for name, role, vehicle in (("rider", "rider", None), ("other_rider", "rider", None),
                                    ("driver", "driver", "bus-1"), ("operator", "operator", None),
                                    ("inactive", "rider", None)):
            user, key = create_user(session, name=name, role=role, vehicle_id=vehicle)
            made[name] = {"Authorization": f"Bearer {key}"}
            if name == "inactive":
                user.active = False
                session.add(user)
                session.commit()
    return made | {"anonymous": {}, "wrong_token": {"Authorization": "Bearer not-a-key"}}


def trip() -> dict:
    """A quote body for a trip after 09:00 today, at a time no other test uses."""
    moment = NOW.replace(hour=9) + timedelta(minutes=next(TRIP_MINUTES))
    return {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after", "time": moment.isoformat(),
            "seats": 1, "wheelchairs": 0}


def quote(client, auth) -> str:
    answer = client.post("/v1/quotes", json=trip(), headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()["quote_id"]


def book(client, auth, quote_id) -> dict:
    answer = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=auth | {"Idempotency-Key": quote_id})
    assert answer.status_code == 201, answer.text
    return answer.json()


# expected status per endpoint and principal; the quote and booking acted on belong to "rider"
MATRIX = {
    "quote": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 200,
              "driver": 403, "operator": 200},
    "book": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 201, "other_rider": 404,
             "driver": 403, "operator": 201},
    "read": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 404,
             "driver": 403, "operator": 200},
    "list_bookings": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 200,
                      "driver": 403, "operator": 200},
    "cancel": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 404,
               "driver": 403, "operator": 200},
    # drivers' endpoints: drivers act on their bus (bus-1); operators read any bus's route but report
    # nothing; riders never. A stop report names an unknown booking, so the driver's 409 (not_next_stop
    # or no_next_stop) shows the call got through without changing the plan; arriving depends on
    # whether bus-1 has a stop by then (204) or not (409 no_next_stop).
    "driver_route": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 200, "operator": 200},
    "arrived": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                "driver": (204, 409), "operator": 403},
    "picked-up": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                  "driver": 409, "operator": 403},
    "dropped-off": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                    "driver": 409, "operator": 403},
    "no-show": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                "driver": 409, "operator": 403},
    "positions": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                  "driver": 202, "operator": 403},
    # operators' endpoints: operators only. The rules put are the defaults, so nothing changes; the bus
    # withdrawn is bus-6 (its riders move to the five others); withdrawing it again would be 409.
    "fleet": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
              "driver": 403, "operator": 200},
    "rules": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
              "driver": 403, "operator": 200},
    "exceptions": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                   "driver": 403, "operator": 200},
    "put_rules": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                  "driver": 403, "operator": 200},
    # the caps put lift every limit (as the tests' environment does), so nothing changes
    "fair_use": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                 "driver": 403, "operator": 200},
    "put_fair_use": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 200},
    "kpis": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
             "driver": 403, "operator": 200},
    "out_of_service": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                       "other_rider": 403, "driver": 403, "operator": 200},
    # the area put is the one in force, so nothing changes
    "service_area": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 200},
    "put_service_area": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                         "other_rider": 403, "driver": 403, "operator": 200},
    # vehicles and shifts: operators only. Each call acts on its own vehicle or shift times, so that the
    # calls of the principals do not collide; putting bus-5 back into service withdraws it first.
    "vehicles": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                 "driver": 403, "operator": 200},
    "create_vehicle": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                       "other_rider": 403, "driver": 403, "operator": 201},
    "vehicle": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                "driver": 403, "operator": 200},
    "change_vehicle": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                       "other_rider": 403, "driver": 403, "operator": 200},
    "in_service": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                   "driver": 403, "operator": 200},
    "shifts": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
               "driver": 403, "operator": 200},
    "create_shift": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 201},
    "change_shift": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 200},
    "delete_shift": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 204},
    # the driver's next stop on bus-1 is never a break here: 409 shows the call got through
    "break_finished": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                       "other_rider": 403, "driver": 409, "operator": 403},
    # simulation jobs: operators only; a job's report is 200 once it is done, 409 before
    "start_simulation": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                         "other_rider": 403, "driver": 403, "operator": 202},
    "simulation": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                   "driver": 403, "operator": 200},
    # the digital twin: operators only (on a day with nothing recorded, 422; an unknown twin, 404)
    "start_twin": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                   "driver": 403, "operator": 422},
    "twin": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
             "driver": 403, "operator": 404},
    "apply_twin": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                   "driver": 403, "operator": 404},
    "simulation_report": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                          "other_rider": 403, "driver": 403, "operator": (200, 409)},
    # cancelling: 202, or 409 when the tiny job has already ended
    "cancel_simulation": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                          "other_rider": 403, "driver": 403, "operator": (202, 409)},
    "me": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 200,
           "driver": 200, "operator": 200},
    # the service calendar: operators only
    "calendar": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                 "driver": 403, "operator": 200},
    "put_calendar": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 200},
    "add_exception": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                      "other_rider": 403, "driver": 403, "operator": 201},
    "remove_exception": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                         "other_rider": 403, "driver": 403, "operator": 204},
    # the booking desk and the demand map: operators only (a quote for "rider", read the booking of "rider")
    "find_riders": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                    "driver": 403, "operator": 200},
    "record_rider": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 201},
    "quote_for_rider": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                        "other_rider": 403, "driver": 403, "operator": 200},
    "search_bookings": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                        "other_rider": 403, "driver": 403, "operator": 200},
    "desk_booking": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 200},
    "demand": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
               "driver": 403, "operator": 200},
    # meeting points: operators edit them (each add names a point of its own; the import is empty, so it
    # changes nothing); riders and operators ask for the walk to one
    "meeting_points": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                       "other_rider": 403, "driver": 403, "operator": 200},
    "export_meeting_points": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                              "other_rider": 403, "driver": 403, "operator": 200},
    "import_meeting_points": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                              "other_rider": 403, "driver": 403, "operator": 200},
    "add_meeting_point": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                          "other_rider": 403, "driver": 403, "operator": 201},
    "change_meeting_point": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                             "other_rider": 403, "driver": 403, "operator": 200},
    "nearby_meeting_points": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200,
                              "other_rider": 200, "driver": 403, "operator": 200},
    "walk": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 200,
             "driver": 403, "operator": 200},
    # the county's reports and the cost settings they use: operators only
    "costs": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
              "driver": 403, "operator": 200},
    "put_costs": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                  "driver": 403, "operator": 200},
    "bookings_csv": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 200},
    "kpis_csv": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                 "driver": 403, "operator": 200},
    "monthly_report": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                       "other_rider": 403, "driver": 403, "operator": 200},
    # riders' notices and notification settings: riders only, each their own (the notice marked read is
    # one of "rider"'s); the outbox view: operators only
    "notices": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 200,
                "driver": 403, "operator": 403},
    "read_notice": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 404,
                    "driver": 403, "operator": 403},
    "notification_settings": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200,
                              "other_rider": 200, "driver": 403, "operator": 403},
    "put_notification_settings": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200,
                                  "other_rider": 200, "driver": 403, "operator": 403},
    "outbox": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
               "driver": 403, "operator": 200},
    # sending a failed mail again: operators only (the matrix's message id is unknown: 404 once let in)
    "retry_outbox": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 404},
    # a rider's own favourite places, companions and recurring trips: riders only; the entry acted on
    # belongs to "rider" (another rider: 404), operators and drivers 403
    **{name: {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": ok, "other_rider": mine,
              "driver": 403, "operator": 403}
       for name, ok, mine in (
           ("favourites", 200, 200), ("add_favourite", 201, 201), ("change_favourite", 200, 404),
           ("remove_favourite", 204, 404), ("companions", 200, 200), ("add_companion", 201, 201),
           ("change_companion", 200, 404), ("remove_companion", 204, 404), ("recurring_trips", 200, 200),
           ("add_recurring_trip", 201, 201), ("recurring_trip", 200, 404),
           ("change_recurring_trip", 200, 404),
           ("remove_recurring_trip", 204, 404))},
    # accounts: everyone signed in gets stream tickets and may sign out (with an API key there is no
    # session to end: 204, nothing changes); operators list and revoke a user's sessions (each call acts
    # on a user of its own, so no principal's key is revoked)
    "ws_ticket": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 201, "other_rider": 201,
                  "driver": 201, "operator": 201},
    "sign_out": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 204, "other_rider": 204,
                 "driver": 204, "operator": 204},
    # a change of one's own address: every signed-in user (this app has no mail server: 503 once let in;
    # the code the matrix confirms with was never mailed: 422)
    "change_email": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 503, "other_rider": 503,
                     "driver": 503, "operator": 503},
    "confirm_email": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 422, "other_rider": 422,
                      "driver": 422, "operator": 422},
    "user_sessions": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                      "driver": 403, "operator": 200},
    "revoke_session": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                       "other_rider": 403, "driver": 403, "operator": 204},
    "revoke_user": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                    "driver": 403, "operator": 204},
    # manual control of the plan: operators only (on a booking of "rider", on bus-4); a move may not fit
    "move_booking": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": (200, 409)},
    "pin_booking": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                    "driver": 403, "operator": 200},
    "unpin_booking": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                      "driver": 403, "operator": 200},
    "route_plan": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                   "driver": 403, "operator": 200},
    "lock_route": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                   "driver": 403, "operator": 200},
    "unlock_route": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 200},
    "add_break": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                  "driver": 403, "operator": (201, 409)},
    "audit": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
              "driver": 403, "operator": 200},
    # data protection: a rider's own copy and erasure (a rider principal erases a rider made for the call,
    # so that the module's riders stay), operators' copy and erasure on a rider's request, the retention
    # settings (the put is the defaults: nothing changes), the drivers' contacts of their next stops
    "export_me": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 200,
                  "driver": 403, "operator": 403},
    "erase_me": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 200, "other_rider": 200,
                 "driver": 403, "operator": 403},
    "export_rider": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                     "driver": 403, "operator": 200},
    "erase_rider": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                    "driver": 403, "operator": 200},
    "retention": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                  "driver": 403, "operator": 200},
    "put_retention": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                      "driver": 403, "operator": 200},
    "driver_contacts": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403,
                        "other_rider": 403, "driver": 200, "operator": 200},
    # the tariff: operators only (riders see fares in their offers and bookings)
    "tariff": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
               "driver": 403, "operator": 200},
    "put_tariff": {"anonymous": 401, "wrong_token": 401, "inactive": 401, "rider": 403, "other_rider": 403,
                   "driver": 403, "operator": 200},
}
# The operation of the OpenAPI schema each matrix entry calls.
OPERATIONS = {
    "quote": "POST /v1/quotes", "book": "POST /v1/bookings", "read": "GET /v1/bookings/{booking_id}",
    "list_bookings": "GET /v1/bookings", "cancel": "DELETE /v1/bookings/{booking_id}",
    "driver_route": "GET /v1/driver/route", "arrived": "POST /v1/driver/arrived",
    "picked-up": "POST /v1/driver/picked-up", "dropped-off": "POST /v1/driver/dropped-off",
    "no-show": "POST /v1/driver/no-show", "positions": "POST /v1/driver/positions",
    "break_finished": "POST /v1/driver/break-finished", "fleet": "GET /v1/operator/fleet",
    "rules": "GET /v1/operator/rules", "exceptions": "GET /v1/operator/exceptions",
    "put_rules": "PUT /v1/operator/rules",
    "fair_use": "GET /v1/operator/fair-use", "put_fair_use": "PUT /v1/operator/fair-use",
    "kpis": "GET /v1/operator/kpis",
    "out_of_service": "POST /v1/operator/vehicles/{vehicle_id}/out-of-service",
    "in_service": "POST /v1/operator/vehicles/{vehicle_id}/in-service",
    "service_area": "GET /v1/operator/service-area", "put_service_area": "PUT /v1/operator/service-area",
    "vehicles": "GET /v1/operator/vehicles", "create_vehicle": "POST /v1/operator/vehicles",
    "vehicle": "GET /v1/operator/vehicles/{vehicle_id}",
    "change_vehicle": "PATCH /v1/operator/vehicles/{vehicle_id}",
    "shifts": "GET /v1/operator/vehicles/{vehicle_id}/shifts",
    "create_shift": "POST /v1/operator/vehicles/{vehicle_id}/shifts",
    "change_shift": "PUT /v1/operator/vehicles/{vehicle_id}/shifts/{shift_id}",
    "delete_shift": "DELETE /v1/operator/vehicles/{vehicle_id}/shifts/{shift_id}",
    "start_simulation": "POST /v1/operator/simulations",
    "simulation": "GET /v1/operator/simulations/{simulation_id}",
    "simulation_report": "GET /v1/operator/simulations/{simulation_id}/report",
    "cancel_simulation": "POST /v1/operator/simulations/{simulation_id}/cancel",
    "start_twin": "POST /v1/operator/twin", "twin": "GET /v1/operator/twin/{twin_id}",
    "apply_twin": "POST /v1/operator/twin/{twin_id}/apply",
    "me": "GET /v1/me",
    "export_me": "GET /v1/rider/me/export", "erase_me": "DELETE /v1/rider/me",
    "export_rider": "GET /v1/operator/riders/{rider_id}/export",
    "erase_rider": "DELETE /v1/operator/riders/{rider_id}",
    "retention": "GET /v1/operator/retention", "put_retention": "PUT /v1/operator/retention",
    "driver_contacts": "GET /v1/driver/contacts",
    "calendar": "GET /v1/operator/calendar", "put_calendar": "PUT /v1/operator/calendar",
    "add_exception": "POST /v1/operator/calendar/exceptions",
    "remove_exception": "DELETE /v1/operator/calendar/exceptions/{day}",
    "find_riders": "GET /v1/operator/riders", "record_rider": "POST /v1/operator/riders",
    "quote_for_rider": "POST /v1/operator/riders/{rider_id}/quotes",
    "search_bookings": "GET /v1/operator/bookings", "desk_booking": "GET /v1/operator/bookings/{booking_id}",
    "demand": "GET /v1/operator/demand",
    "meeting_points": "GET /v1/operator/meeting-points",
    "export_meeting_points": "GET /v1/operator/meeting-points/export",
    "import_meeting_points": "POST /v1/operator/meeting-points/import",
    "add_meeting_point": "POST /v1/operator/meeting-points",
    "change_meeting_point": "PATCH /v1/operator/meeting-points/{point_id}",
    "nearby_meeting_points": "GET /v1/rider/meeting-points", "walk": "GET /v1/rider/walk",
    "costs": "GET /v1/operator/costs", "put_costs": "PUT /v1/operator/costs",
    "bookings_csv": "GET /v1/operator/reports/bookings.csv", "kpis_csv": "GET /v1/operator/reports/kpis.csv",
    "monthly_report": "GET /v1/operator/reports/monthly",
    "notices": "GET /v1/rider/notices", "read_notice": "POST /v1/rider/notices/{notice_id}/read",
    "notification_settings": "GET /v1/rider/notification-settings",
    "put_notification_settings": "PUT /v1/rider/notification-settings", "outbox": "GET /v1/operator/outbox",
    "retry_outbox": "POST /v1/operator/outbox/{message_id}/retry",
    "favourites": "GET /v1/rider/favourites", "add_favourite": "POST /v1/rider/favourites",
    "change_favourite": "PUT /v1/rider/favourites/{favourite_id}",
    "remove_favourite": "DELETE /v1/rider/favourites/{favourite_id}",
    "companions": "GET /v1/rider/companions", "add_companion": "POST /v1/rider/companions",
    "change_companion": "PUT /v1/rider/companions/{companion_id}",
    "remove_companion": "DELETE /v1/rider/companions/{companion_id}",
    "recurring_trips": "GET /v1/rider/recurring-trips",
    "add_recurring_trip": "POST /v1/rider/recurring-trips",
    "recurring_trip": "GET /v1/rider/recurring-trips/{trip_id}",
    "change_recurring_trip": "PUT /v1/rider/recurring-trips/{trip_id}",
    "remove_recurring_trip": "DELETE /v1/rider/recurring-trips/{trip_id}",
    "ws_ticket": "POST /v1/auth/ws-ticket", "sign_out": "POST /v1/auth/sign-out",
    "change_email": "POST /v1/auth/email", "confirm_email": "POST /v1/auth/email/verify",
    "user_sessions": "GET /v1/operator/users/{user_id}/sessions",
    "revoke_session": "POST /v1/operator/users/{user_id}/sessions/{session_id}/revoke",
    "revoke_user": "POST /v1/operator/users/{user_id}/revoke",
    "move_booking": "POST /v1/operator/bookings/{booking_id}/move",
    "pin_booking": "POST /v1/operator/bookings/{booking_id}/pin",
    "unpin_booking": "DELETE /v1/operator/bookings/{booking_id}/pin",
    "route_plan": "GET /v1/operator/vehicles/{vehicle_id}/plan",
    "lock_route": "POST /v1/operator/vehicles/{vehicle_id}/lock",
    "unlock_route": "DELETE /v1/operator/vehicles/{vehicle_id}/lock",
    "add_break": "POST /v1/operator/vehicles/{vehicle_id}/breaks", "audit": "GET /v1/operator/audit",
    "tariff": "GET /v1/operator/tariff", "put_tariff": "PUT /v1/operator/tariff",
}
# Operations of the schema that need no key, on purpose: the service's health and home page, the
# public map data (the basemap's tiles), the named stops, the place search, and signing up and in
# (tests/api/test_accounts.py).
PUBLIC = {"GET /health", "GET /", "GET /map/roads", "GET /map/area", "GET /map/places", "GET /v1/stops",
          "GET /v1/places/search", "GET /map/tiles/{z}/{x}/{y}.pbf",
          "GET /feeds/gtfs.zip", "GET /feeds/gtfs-rt/vehicle-positions", "POST /v1/auth/code",
          "POST /v1/auth/sign-up", "POST /v1/auth/verify", "POST /v1/auth/refresh", "POST /v1/auth/device"}
# The WebSocket streams (not in the OpenAPI schema) and how each principal is answered: "open" (the
# first message arrives) or the close code. The booking followed belongs to "rider".
STREAMS = {"driver_stream": "/v1/driver/stream", "booking_stream": "/v1/bookings/{booking_id}/stream",
           "operator_stream": "/v1/operator/stream"}
STREAM_MATRIX: dict[str, dict[str, int | str]] = {
    "driver_stream": {"anonymous": 4401, "wrong_token": 4401, "inactive": 4401, "rider": 4403,
                      "other_rider": 4403, "driver": "open", "operator": "open"},
    "booking_stream": {"anonymous": 4401, "wrong_token": 4401, "inactive": 4401, "rider": "open",
                       "other_rider": 4404, "driver": 4403, "operator": "open"},
    "operator_stream": {"anonymous": 4401, "wrong_token": 4401, "inactive": 4401, "rider": 4403,
                        "other_rider": 4403, "driver": 4403, "operator": "open"},
}
DESK_ENDPOINTS = ("find_riders", "record_rider", "quote_for_rider", "search_bookings", "desk_booking",
                  "demand")
CODES = {401: "unauthenticated", 403: "forbidden"}
FLEET_ENDPOINTS = ("vehicles", "create_vehicle", "vehicle", "change_vehicle", "in_service", "shifts",
                   "create_shift", "change_shift", "delete_shift", "break_finished")
SIMULATION_ENDPOINTS = ("start_simulation", "simulation", "simulation_report", "cancel_simulation")
CALENDAR_ENDPOINTS = ("calendar", "put_calendar", "add_exception", "remove_exception")
EXCEPTION_DAYS = count(10)  # every exception the matrix writes is on a date of its own
SIMULATION = {"buses": 1, "requests": 5, "reoptimize_every_min": 0, "seed": 3}  # a tiny study
MEETING_POINT_ENDPOINTS = ("meeting_points", "export_meeting_points", "import_meeting_points",
                           "add_meeting_point", "change_meeting_point", "nearby_meeting_points", "walk")
MEETING_POINT_IDS = count(1)  # every point the matrix adds has an id of its own
NOTICE_ENDPOINTS = ("notices", "read_notice", "notification_settings", "put_notification_settings", "outbox",
                    "retry_outbox")
REPORT_ENDPOINTS = ("costs", "put_costs", "bookings_csv", "kpis_csv", "monthly_report")
ACCOUNT_ENDPOINTS = ("ws_ticket", "sign_out", "change_email", "confirm_email", "user_sessions",
                     "revoke_session", "revoke_user")
CONTROL_ENDPOINTS = ("move_booking", "pin_booking", "unpin_booking", "route_plan", "lock_route",
                     "unlock_route", "add_break", "audit")
PRIVACY_ENDPOINTS = ("export_me", "erase_me", "export_rider", "erase_rider", "retention", "put_retention",
                     "driver_contacts")
SHIFT_DAYS = count(3)  # every shift the matrix writes is on a day of its own, three or more days ahead
# the rider's own things: (collection URL, a valid body) by the matrix entry's stem
PROFILE = {"favourite": ("/v1/rider/favourites", {"name": "Home", **VADUZ}),
           "companion": ("/v1/rider/companions", {"name": "Kim", "category": "child"}),
           "recurring_trip": ("/v1/rider/recurring-trips", {
               "origin": VADUZ, "destination": SCHAAN, "weekdays": [0], "time_type": "leave_after",
               "time": "09:00", "first_day": "2027-01-04", "last_day": "2027-01-31"})}
PROFILE_ENDPOINTS = {f"{verb}{stem}{plural}": (verb, stem) for stem in PROFILE
                     for verb, plural in (("", "s"), ("add_", ""), ("change_", ""), ("remove_", ""), ("", ""))
                     if f"{verb}{stem}{plural}" in MATRIX}


def notice_call(client, caller, owner, endpoint):
    """The answer to ``caller`` calling one of the notices' endpoints (marking read a notice of the owner's
    newest booking), or the outbox view."""
    if endpoint == "notices":
        return client.get("/v1/rider/notices", headers=caller)
    if endpoint == "read_notice":
        booking_id = book(client, owner, quote(client, owner))["id"]
        notice_id = None
        for offset in range(0, 10_000, 100):  # the matrix's clock stands still: notices tie on their instant
            page = client.get("/v1/rider/notices", headers=owner,
                              params={"limit": 100, "offset": offset}).json()
            notice_id = next((n["id"] for n in page["items"] if n["booking_id"] == booking_id), None)
            if notice_id is not None or not page["items"]:
                break
        assert notice_id is not None, "the booking's confirmation notice is missing"
        return client.post(f"/v1/rider/notices/{notice_id}/read", headers=caller)
    if endpoint == "notification_settings":
        return client.get("/v1/rider/notification-settings", headers=caller)
    if endpoint == "put_notification_settings":
        return client.put("/v1/rider/notification-settings", headers=caller, json={"language": "en"})
    if endpoint == "retry_outbox":
        return client.post(f"/v1/operator/outbox/{2**62}/retry", headers=caller)
    return client.get("/v1/operator/outbox", headers=caller)


def shift_body() -> dict:
    """A shift 06:00–14:00 on a day no other call uses."""
    day = NOW.replace(hour=6) + timedelta(days=next(SHIFT_DAYS))
    return {"starts_at": day.isoformat(), "ends_at": (day + timedelta(hours=8)).isoformat(), "breaks": []}


def calendar_call(client, caller, operator, endpoint):
    """The answer to ``caller`` calling one of the service calendar's endpoints."""
    url = "/v1/operator/calendar"
    day = (NOW + timedelta(days=next(EXCEPTION_DAYS))).date().isoformat()
    if endpoint == "calendar":
        return client.get(url, headers=caller)
    if endpoint == "put_calendar":
        return client.put(url, headers=caller, json={"weekdays": {}, "exceptions": []})
    if endpoint == "add_exception":
        return client.post(f"{url}/exceptions", headers=caller, json={"day": day})
    made = client.post(f"{url}/exceptions", headers=operator, json={"day": day})
    assert made.status_code == 201, made.text
    return client.delete(f"{url}/exceptions/{day}", headers=caller)


def desk_call(client, caller, owner, endpoint):
    """The answer to ``caller`` calling one of the booking desk's or the demand map's endpoints; the
    quote and the booking read are for and of the rider ``owner`` names."""
    desk = "/v1/operator"
    if endpoint == "find_riders":
        return client.get(f"{desk}/riders", params={"q": "rider"}, headers=caller)
    if endpoint == "record_rider":
        return client.post(f"{desk}/riders", json={"name": "Caller", "phone": "+423 000 00 00"},
                           headers=caller)
    if endpoint == "quote_for_rider":
        rider_id = client.get("/v1/me", headers=owner).json()["id"]
        return client.post(f"{desk}/riders/{rider_id}/quotes", json=trip(), headers=caller)
    if endpoint == "search_bookings":
        return client.get(f"{desk}/bookings", params={"status": "booked"}, headers=caller)
    if endpoint == "desk_booking":
        booking_id = book(client, owner, quote(client, owner))["id"]
        return client.get(f"{desk}/bookings/{booking_id}", headers=caller)
    return client.get(f"{desk}/demand", headers=caller,
                      params={"from": NOW.isoformat(), "to": (NOW + timedelta(days=1)).isoformat()})


def fleet_call(client, caller, operator, endpoint, principal):
    """The answer to ``caller`` calling one of the vehicle and shift endpoints."""
    vehicles = "/v1/operator/vehicles"
    if endpoint == "vehicles":
        return client.get(vehicles, headers=caller)
    if endpoint == "create_vehicle":
        return client.post(vehicles, headers=caller,
                           json={"id": f"van-{principal}", "name": "Van", "seats": 4, "depot": SCHAAN})
    if endpoint == "vehicle":
        return client.get(f"{vehicles}/bus-1", headers=caller)
    if endpoint == "change_vehicle":
        return client.patch(f"{vehicles}/bus-1", headers=caller, json={"name": f"Bus by {principal}"})
    if endpoint == "in_service":
        client.post(f"{vehicles}/bus-5/out-of-service", headers=operator)
        return client.post(f"{vehicles}/bus-5/in-service", headers=caller)
    if endpoint == "shifts":
        return client.get(f"{vehicles}/bus-1/shifts", headers=caller)
    if endpoint == "create_shift":
        return client.post(f"{vehicles}/bus-2/shifts", headers=caller, json=shift_body())
    if endpoint == "break_finished":
        return client.post("/v1/driver/break-finished", headers=caller)
    made = client.post(f"{vehicles}/bus-3/shifts", headers=operator, json=shift_body())
    assert made.status_code == 201, made.text
    path = f"{vehicles}/bus-3/shifts/{made.json()['id']}"
    if endpoint == "change_shift":
        return client.put(path, headers=caller, json=shift_body())
    return client.delete(path, headers=caller)


def meeting_point_call(client, caller, operator, endpoint):
    """Call a meeting-point endpoint as ``caller``; what it acts on is set up by ``operator``."""
    if endpoint == "meeting_points":
        return client.get("/v1/operator/meeting-points", headers=caller)
    if endpoint == "export_meeting_points":
        return client.get("/v1/operator/meeting-points/export", headers=caller)
    if endpoint == "import_meeting_points":
        return client.post("/v1/operator/meeting-points/import", headers=caller,
                           json={"type": "FeatureCollection", "features": []})
    if endpoint == "add_meeting_point":
        return client.post("/v1/operator/meeting-points", headers=caller,
                           json={"id": f"matrix-{next(MEETING_POINT_IDS)}", "name": "Matrix", **VADUZ})
    if endpoint == "change_meeting_point":
        added = client.post("/v1/operator/meeting-points", headers=operator,
                            json={"id": f"matrix-{next(MEETING_POINT_IDS)}", "name": "Matrix", **VADUZ})
        return client.patch(f"/v1/operator/meeting-points/{added.json()['id']}", headers=caller,
                            json={"name": "Renamed"})
    if endpoint == "nearby_meeting_points":
        return client.get("/v1/rider/meeting-points", headers=caller,
                          params={"near": f"{VADUZ['lat']},{VADUZ['lon']}"})
    added = client.post("/v1/operator/meeting-points", headers=operator,
                        json={"id": f"matrix-{next(MEETING_POINT_IDS)}", "name": "Matrix", **SCHAAN})
    return client.get("/v1/rider/walk", headers=caller,
                      params={"from": f"{SCHAAN['lat']},{SCHAAN['lon'] + 0.002}", "to": added.json()["id"]})


def report_call(client, caller, endpoint):
    """The answer to ``caller`` reading or setting the cost settings, or asking for a report."""
    if endpoint == "costs":
        return client.get("/v1/operator/costs", headers=caller)
    if endpoint == "put_costs":
        return client.put("/v1/operator/costs", headers=caller,
                          json={"per_vehicle_hour": 50, "per_vehicle_km": 1, "currency": "EUR"})
    if endpoint == "monthly_report":
        return client.get("/v1/operator/reports/monthly", headers=caller, params={"month": "2026-11"})
    path = "bookings.csv" if endpoint == "bookings_csv" else "kpis.csv"
    return client.get(f"/v1/operator/reports/{path}", headers=caller,
                      params={"from": "2026-11-01", "to": "2026-11-30"})


def profile_call(client, caller, owner, endpoint):
    """Call one of the endpoints of a rider's own things as ``caller``; an entry acted on by id is made
    by ``owner`` first (and removed after)."""
    verb, stem = PROFILE_ENDPOINTS[endpoint]
    url, body = PROFILE[stem]
    if endpoint.endswith("s") and not verb:
        return client.get(url, headers=caller)
    if verb == "add_":
        return client.post(url, json=body, headers=caller)
    made = client.post(url, json=body, headers=owner)
    assert made.status_code == 201, made.text
    path = f"{url}/{made.json()['id']}"
    if verb == "remove_":
        return client.delete(path, headers=caller)
    if verb == "change_":
        answer = client.put(path, json=body, headers=caller)
    else:
        answer = client.get(path, headers=caller)
    client.delete(path, headers=owner)  # the owner's lists are capped: keep them short
    return answer
def account_call(client, caller, endpoint):
    """The answer to ``caller`` asking for a stream ticket, signing out, or listing or revoking the
    sessions of a user of its own (who holds one session, from their API key)."""
    if endpoint == "ws_ticket":
        return client.post("/v1/auth/ws-ticket", headers=caller)
    if endpoint == "sign_out":
        return client.post("/v1/auth/sign-out", headers=caller)
    if endpoint == "change_email":
        return client.post("/v1/auth/email", json={"email": "new@example.org"}, headers=caller)
    if endpoint == "confirm_email":
        return client.post("/v1/auth/email/verify", json={"email": "new@example.org", "code": "123456"},
                           headers=caller)
    with Session(client.app.state.engine) as session:
        user, key = create_user(session, name="Sessions", role="rider")
    made = client.post("/v1/auth/device", json={"api_key": key})
    assert made.status_code == 200, made.text
    if endpoint == "user_sessions":
        return client.get(f"/v1/operator/users/{user.id}/sessions", headers=caller)
    if endpoint == "revoke_session":
        return client.post(f"/v1/operator/users/{user.id}/sessions/{made.json()['session_id']}/revoke",
                           headers=caller)
    return client.post(f"/v1/operator/users/{user.id}/revoke", headers=caller)
def control_call(client, caller, owner, endpoint):
    """The answer to ``caller`` calling one of the manual-control endpoints: on a booking of the rider
    ``owner`` names, or on bus-4 (a 10-min break this evening)."""
    if endpoint in ("move_booking", "pin_booking", "unpin_booking"):
        path = f"/v1/operator/bookings/{book(client, owner, quote(client, owner))['id']}"
        if endpoint == "move_booking":
            return client.post(f"{path}/move", headers=caller, json={"vehicle_id": "bus-4"})
        return (client.post if endpoint == "pin_booking" else client.delete)(f"{path}/pin", headers=caller)
    vehicle = "/v1/operator/vehicles/bus-4"
    if endpoint == "route_plan":
        return client.get(f"{vehicle}/plan", headers=caller)
    if endpoint == "lock_route":
        return client.post(f"{vehicle}/lock", headers=caller, json={"allow_insertions": True})
    if endpoint == "unlock_route":
        return client.delete(f"{vehicle}/lock", headers=caller)
    if endpoint == "add_break":
        start = NOW.replace(hour=20)
        return client.post(f"{vehicle}/breaks", headers=caller, json={
            "earliest_start": start.isoformat(), "latest_start": (start + timedelta(minutes=30)).isoformat(),
            "duration_s": 600})
    return client.get("/v1/operator/audit", headers=caller)


def simulation_call(client, caller, operator, endpoint):
    """The answer to ``caller`` starting a simulation job, or reading or cancelling one the operator
    started."""
    if endpoint == "start_simulation":
        return client.post("/v1/operator/simulations", headers=caller, json=SIMULATION)
    made = client.post("/v1/operator/simulations", headers=operator, json=SIMULATION)
    assert made.status_code == 202, made.text
    job = made.json()
    if endpoint == "cancel_simulation":
        return client.post(f"/v1/operator/simulations/{job['id']}/cancel", headers=caller)
    path = job["report_url"] if endpoint == "simulation_report" else f"/v1/operator/simulations/{job['id']}"
    return client.get(path, headers=caller)


def privacy_call(client, caller, owner, principal, endpoint):
    """Call a data-protection endpoint as ``caller``; a rider principal erasing themself, and an operator
    erasing a rider, erase a rider made for the call instead."""
    if endpoint == "driver_contacts":
        return client.get("/v1/driver/contacts", headers=caller,
                          params={"vehicle_id": "bus-1"} if principal == "operator" else {})
    if endpoint == "retention":
        return client.get("/v1/operator/retention", headers=caller)
    if endpoint == "put_retention":
        return client.put("/v1/operator/retention", headers=caller, json={
            "coarsen_after_days": 90, "prune_after_days": 365, "bus_visible_minutes": 10,
            "driver_contact_stops": 2, "driver_contact_minutes": 30})
    if endpoint == "export_me":
        return client.get("/v1/rider/me/export", headers=caller)
    if endpoint == "export_rider":
        rider_id = client.get("/v1/me", headers=owner).json()["id"]
        return client.get(f"/v1/operator/riders/{rider_id}/export", headers=caller)
    with Session(client.app.state.engine) as session:
        throwaway, key = create_user(session, name=f"leaving {principal}", role="rider")
    if endpoint == "erase_me":
        mine = {"Authorization": f"Bearer {key}"} if principal in ("rider", "other_rider") else caller
        return client.delete("/v1/rider/me", headers=mine)
    return client.delete(f"/v1/operator/riders/{throwaway.id}", headers=caller)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_role_matrix(client, headers, endpoint, principal):
    """Each principal × each endpoint answers the expected status: 401 (with WWW-Authenticate: Bearer)
    without a valid active key; on riders' endpoints 403 for drivers, 404 for another rider's quote or
    booking, success for the owning rider and for operators; on drivers' endpoints 403 for riders (and
    for operators, except reading a route), and the driver of bus-1 gets through; operators' endpoints
    let only operators through."""
    owner, caller = headers["rider"], headers[principal]
    if endpoint == "driver_route":
        answer = client.get("/v1/driver/route",
                            params={"vehicle_id": "bus-1"} if principal == "operator" else {},
                            headers=caller)
    elif endpoint == "positions":
        answer = client.post("/v1/driver/positions", headers=caller,
                             json={"positions": [{**VADUZ, "at": NOW.isoformat()}]})
    elif endpoint == "arrived":
        answer = client.post("/v1/driver/arrived", headers=caller)
    elif endpoint in ("picked-up", "dropped-off", "no-show"):
        answer = client.post(f"/v1/driver/{endpoint}", json={"booking_id": "nope"}, headers=caller)
    elif endpoint in ("fleet", "rules", "exceptions"):
        answer = client.get(f"/v1/operator/{endpoint}", headers=caller)
    elif endpoint == "put_rules":
        answer = client.put("/v1/operator/rules", json=dataclasses.asdict(ServiceRules()), headers=caller)
    elif endpoint == "fair_use":
        answer = client.get("/v1/operator/fair-use", headers=caller)
    elif endpoint == "put_fair_use":
        answer = client.put("/v1/operator/fair-use", headers=caller,
                            json={"max_open_bookings": 1000, "max_seats_per_slot": 1000, "slot_minutes": 30})
    elif endpoint == "kpis":
        answer = client.get("/v1/operator/kpis", headers=caller,
                            params={"from": NOW.isoformat(), "to": (NOW + timedelta(days=1)).isoformat()})
    elif endpoint == "out_of_service":
        answer = client.post("/v1/operator/vehicles/bus-6/out-of-service", headers=caller)
    elif endpoint in MEETING_POINT_ENDPOINTS:
        answer = meeting_point_call(client, caller, headers["operator"], endpoint)
    elif endpoint in REPORT_ENDPOINTS:
        answer = report_call(client, caller, endpoint)
    elif endpoint in PROFILE_ENDPOINTS:
        answer = profile_call(client, caller, owner, endpoint)
    elif endpoint in ACCOUNT_ENDPOINTS:
        answer = account_call(client, caller, endpoint)
    elif endpoint in CONTROL_ENDPOINTS:
        answer = control_call(client, caller, owner, endpoint)
    elif endpoint in PRIVACY_ENDPOINTS:
        answer = privacy_call(client, caller, owner, principal, endpoint)
    elif endpoint in SIMULATION_ENDPOINTS:
        answer = simulation_call(client, caller, headers["operator"], endpoint)
    elif endpoint == "tariff":
        answer = client.get("/v1/operator/tariff", headers=caller)
    elif endpoint == "put_tariff":
        answer = client.put("/v1/operator/tariff", headers=caller,
                            json={"scheme": {"kind": "distance", "base_cents": 200, "per_km_cents": 50}})
    elif endpoint == "start_twin":
        answer = client.post("/v1/operator/twin", headers=caller, json={"from": "2030-01-01"})
    elif endpoint in ("twin", "apply_twin"):
        path = "/v1/operator/twin/nope" + ("/apply" if endpoint == "apply_twin" else "")
        answer = client.get(path, headers=caller) if endpoint == "twin" else client.post(path, headers=caller)
    elif endpoint == "service_area":
        answer = client.get("/v1/operator/service-area", headers=caller)
    elif endpoint == "put_service_area":
        area = client.get("/v1/operator/service-area", headers=headers["operator"]).json()
        answer = client.put("/v1/operator/service-area", headers=caller,
                            json={"name": "same", "geojson": area["geojson"]})
    elif endpoint in CALENDAR_ENDPOINTS:
        answer = calendar_call(client, caller, headers["operator"], endpoint)
    elif endpoint in DESK_ENDPOINTS:
        answer = desk_call(client, caller, owner, endpoint)
    elif endpoint in FLEET_ENDPOINTS:
        answer = fleet_call(client, caller, headers["operator"], endpoint, principal)
    elif endpoint in NOTICE_ENDPOINTS:
        answer = notice_call(client, caller, owner, endpoint)
    elif endpoint == "list_bookings":
        answer = client.get("/v1/bookings", headers=caller)
    elif endpoint == "me":
        answer = client.get("/v1/me", headers=caller)
    elif endpoint == "quote":
        answer = client.post("/v1/quotes", json=trip(), headers=caller)
    elif endpoint == "book":
        quote_id = quote(client, owner)
        answer = client.post("/v1/bookings", json={"quote_id": quote_id},
                             headers=caller | {"Idempotency-Key": f"{principal}-{quote_id}"})
    else:
        booking_id = book(client, owner, quote(client, owner))["id"]
        method = client.get if endpoint == "read" else client.delete
        answer = method(f"/v1/bookings/{booking_id}", headers=caller)
    expected = MATRIX[endpoint][principal]
    if isinstance(expected, tuple):
        assert answer.status_code in expected, answer.text
        return
    assert answer.status_code == expected, answer.text
    if expected in CODES:
        assert answer.json()["code"] == CODES[expected]
    if expected == 401:
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    if expected == 404:
        assert answer.json()["code"] in ("unknown_offer", "unknown_booking", "unknown_notice",
                                         "unknown_message", "unknown_favourite", "unknown_companion",
                                         "unknown_recurring_trip", "unknown_twin")


def test_every_operation_is_in_the_matrix_or_on_the_public_list(client):
    """Every operation of the OpenAPI schema is either one entry of the role matrix or on the explicit
    public list — a new endpoint, with or without its auth dependency, fails here until it is placed —
    and every operation the schema marks as needing a key is in the matrix, none on the public list."""
    spec = client.get("/openapi.json").json()
    every = {f"{method.upper()} {path}"
             for path, operations in spec["paths"].items() for method in operations}
    secured = {f"{method.upper()} {path}" for path, operations in spec["paths"].items()
               for method, operation in operations.items() if operation.get("security")}
    assert set(OPERATIONS) == set(MATRIX)
    assert set(OPERATIONS.values()) == secured
    assert not set(OPERATIONS.values()) & PUBLIC
    assert every == set(OPERATIONS.values()) | PUBLIC


def _routes(routes: list) -> Iterator[object]:
    for route in routes:  # FastAPI keeps included routers as one entry each: look inside
        inner = getattr(route, "original_router", None)
        yield from _routes(inner.routes) if inner is not None else (route,)


def test_every_websocket_is_in_the_stream_matrix(client):
    """The WebSocket streams are not in the OpenAPI schema: every WebSocket route of the app is one entry
    of the stream matrix (a new stream without its row fails here), and every entry is a route."""
    streams = {route.path for route in _routes(client.app.routes) if isinstance(route, WebSocketRoute)}
    assert streams and streams == set(STREAMS.values())
    assert set(STREAMS) == set(STREAM_MATRIX)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("stream", list(STREAM_MATRIX))
def test_stream_matrix(client, headers, stream, principal):
    """Each principal × each WebSocket stream: without a valid active key closed with 4401, for a role
    it is not for 4403, another rider's booking 4404; the roles it is for get its first message (the
    booking stream's booking belongs to "rider"; operators name the bus of the driver stream)."""
    path = STREAMS[stream]
    if stream == "booking_stream":
        path = path.format(booking_id=book(client, headers["rider"], quote(client, headers["rider"]))["id"])
    elif principal == "operator":
        path += "?vehicle_id=bus-1"
    expected = STREAM_MATRIX[stream][principal]
    with client.websocket_connect(path, headers=headers[principal]) as websocket:
        if expected == "open":
            assert isinstance(websocket.receive_json(), dict)
            return
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_json()
    assert closed.value.code == expected


@pytest.mark.parametrize("path", ["/health", "/", "/openapi.json", "/app", "/driver", "/operator",
                                  "/feeds/gtfs.zip", "/feeds/gtfs-rt/vehicle-positions", "/privacy"])
def test_public_pages_need_no_key(client, path):
    """The health page, the home page, the API schema, the web apps' pages, the open-data feeds and the
    privacy notice stay public."""
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_cdn_api_docs_are_off(client, path):
    """FastAPI's interactive docs load their scripts from a CDN: they are not served."""
    assert client.get(path).status_code == 404


def test_openapi_declares_the_bearer_scheme(client):
    """The docs offer an 'Authorize' button: the rider endpoints use the HTTP bearer scheme."""
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert spec["paths"]["/v1/quotes"]["post"]["security"] == [{"HTTPBearer": []}]


def test_a_non_bearer_scheme_is_401(client, headers):
    """A key sent as Basic credentials, or an empty bearer token, is not accepted."""
    key = headers["rider"]["Authorization"].removeprefix("Bearer ")
    for value in (f"Basic {key}", "Bearer ", key):
        answer = client.post("/v1/quotes", json=trip(), headers={"Authorization": value})
        assert answer.status_code == 401 and answer.json()["code"] == "unauthenticated"


def test_bookings_record_their_rider_and_riders_are_isolated(client, headers):
    """A rider's booking stores their user id; another rider can neither read nor cancel it (404, as for
    a booking that does not exist) nor replay its Idempotency-Key to see it (404, the key is the
    rider's); the operator's booking on behalf of a caller belongs to the operator and riders cannot
    see it."""
    booking = book(client, headers["rider"], quote(client, headers["rider"]))
    other = headers["other_rider"]
    assert client.get(f"/v1/bookings/{booking['id']}", headers=other).json()["code"] == "unknown_booking"
    assert client.get("/v1/bookings/nope", headers=other).json()["code"] == "unknown_booking"
    assert client.delete(f"/v1/bookings/{booking['id']}", headers=other).status_code == 404
    replay = client.post("/v1/bookings", json={"quote_id": booking["id"]},
                         headers=other | {"Idempotency-Key": booking["id"]})
    assert replay.status_code == 404 and replay.json()["code"] == "unknown_offer"
    assert client.get(f"/v1/bookings/{booking['id']}", headers=headers["rider"]).json()["status"] == "booked"

    phoned_in = book(client, headers["operator"], quote(client, headers["operator"]))
    assert client.get(f"/v1/bookings/{phoned_in['id']}", headers=headers["rider"]).status_code == 404
    with Session(client.app.state.engine) as session:
        riders = {u.name: u.id for u in session.exec(select(User))}
        assert session.get(Booking, booking["id"]).rider_id == riders["rider"]
        assert session.get(Booking, phoned_in["id"]).rider_id == riders["operator"]


def test_two_riders_may_book_with_the_same_idempotency_key(client, headers):
    """Idempotency keys are per rider: rider and other_rider each book their own quote with the key
    "same-key" (201 both, two bookings); a retry by each returns their own booking (200)."""
    made = {}
    for name in ("rider", "other_rider"):
        quote_id = quote(client, headers[name])
        answer = client.post("/v1/bookings", json={"quote_id": quote_id},
                             headers=headers[name] | {"Idempotency-Key": "same-key"})
        assert answer.status_code == 201, answer.text
        made[name] = quote_id
    assert made["rider"] != made["other_rider"]
    for name, quote_id in made.items():
        retry = client.post("/v1/bookings", json={"quote_id": quote_id},
                            headers=headers[name] | {"Idempotency-Key": "same-key"})
        assert retry.status_code == 200 and retry.json()["id"] == quote_id


def test_keys_are_random_and_stored_only_as_their_hash(client):
    """Two users get different keys of at least 43 characters; the table holds the SHA-256 hex digest,
    never the key, and authenticate() finds the user by it."""
    with Session(client.app.state.engine) as session:
        first, first_key = create_user(session, name="A", role="rider")
        second, second_key = create_user(session, name="B", role="operator")
        assert first_key != second_key and min(len(first_key), len(second_key)) >= 43
        assert first.api_key_hash == hash_key(first_key) and len(first.api_key_hash) == 64
        assert first_key not in first.api_key_hash
        assert authenticate(session, first_key).id == first.id
        assert authenticate(session, second_key).id == second.id
        assert authenticate(session, "") is None and authenticate(session, first.api_key_hash) is None


def test_drivers_need_an_existing_bus_and_others_none(client):
    """A driver without a bus, a driver of an unknown bus or a rider with a bus cannot be created."""
    with Session(client.app.state.engine) as session:
        for role, vehicle in (("driver", None), ("driver", "bus-99"), ("rider", "bus-1")):
            with pytest.raises(InvalidUser):
                create_user(session, name="X", role=role, vehicle_id=vehicle)


def test_cli_creates_a_user_and_prints_the_key_once(tmp_path, monkeypatch):
    """``rufbus user create`` migrates DATABASE_URL if needed, stores the user and prints a key that
    authenticates them; a bad role is a usage error."""
    url = f"sqlite:///{tmp_path / 'rufbus.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(cli, ["user", "create", "--name", "Anna", "--role", "operator"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            user = authenticate(session, key)
            assert user is not None and (user.name, user.role.value) == ("Anna", "operator")
    finally:
        engine.dispose()
    bad = CliRunner().invoke(cli, ["user", "create", "--name", "X", "--role", "admin"])
    assert bad.exit_code == 2
    no_bus = CliRunner().invoke(cli, ["user", "create", "--name", "X", "--role", "driver"])
    assert no_bus.exit_code == 2


def test_demo_users_are_off_unless_asked_for(monkeypatch):
    """RUFBUS_DEMO_USERS is off by default, also for the embedded SQLite file (``make run``)."""
    monkeypatch.delenv("RUFBUS_DEMO_USERS", raising=False)
    assert not Settings(database_url=DEFAULT_DATABASE_URL).demo_users_enabled
    assert not Settings(database_url="sqlite:////tmp/elsewhere.sqlite3").demo_users_enabled
    assert Settings(database_url="sqlite:////tmp/elsewhere.sqlite3", demo_users=True).demo_users_enabled


def test_demo_users_are_created_once_at_start_when_asked(tmp_path, caplog, capsys):
    """With demo_users on, the first start creates a rider, a driver of bus-1 and an operator and prints
    their keys to the console (never to the log), which work; a second start on the same database
    creates nobody and prints nothing."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'rufbus.sqlite3'}", demo_users=True)
    clock = ServiceClock(ZONE, wall_clock=lambda: NOW)
    with (
        caplog.at_level(logging.DEBUG),
        TestClient(create_app(settings, clock=clock)) as first,
    ):
        with Session(first.app.state.engine) as session:
            users = session.exec(select(User)).all()
            assert sorted((u.role.value, u.vehicle_id) for u in users) == [
                ("driver", "bus-1"), ("operator", None), ("rider", None)]
        keys = [line.rsplit(" ", 1)[-1] for line in capsys.readouterr().out.splitlines() if "API key" in line]
        assert len(keys) == 3
        assert not any(key in record.getMessage() for record in caplog.records for key in keys)
        assert first.post("/v1/quotes", json=trip(),
                          headers={"Authorization": f"Bearer {keys[0]}"}).status_code == 200
    with (
        TestClient(create_app(settings, clock=clock)) as second,
        Session(second.app.state.engine) as session,
    ):
        assert len(session.exec(select(User)).all()) == 3
    assert "API key" not in capsys.readouterr().out
