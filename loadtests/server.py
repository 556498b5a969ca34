"""The app factory the load runner hands to uvicorn: the real service (:func:`api.app.create_app`, settings
from the environment), with one difference — its clock may be shifted by a fixed number of seconds
(``RUFBUS_LOAD_CLOCK_OFFSET_S``) so that a load run started at night still meets the service in its
service hours. The clock keeps running in real time; only its origin moves, and every restart of a run
uses the same offset."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from fastapi import FastAPI

from api.app import create_app as create_service
from api.clock import ServiceClock
from api.settings import Settings
from loadtests.service import OFFSET_VARIABLE


def clock_offset_s() -> int:
    """The clock shift in seconds from ``RUFBUS_LOAD_CLOCK_OFFSET_S`` (0 when unset)."""
    return int(os.environ.get(OFFSET_VARIABLE, "0") or 0)


def create_app() -> FastAPI:
    """The service as ``rufbus serve`` builds it, on a clock shifted by :func:`clock_offset_s`."""
    settings = Settings()
    offset = timedelta(seconds=clock_offset_s())
    zone = ServiceClock.for_zone(settings.timezone).zone

    def wall_clock() -> datetime:
        return datetime.now(zone) + offset

    return create_service(settings, clock=ServiceClock(zone, wall_clock if offset else None))
