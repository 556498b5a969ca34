"""The Locust users of a load run: riders, drivers and operators in realistic proportions.

* Riders (every user not a driver or an operator) ask for a trip, book the offer with an
  ``Idempotency-Key``, poll the booking a few times and now and then cancel it. A quote refused with 409
  (no bus can take the trip) is a normal answer of the business, counted, not a failure. A booking whose
  answer never arrived (connection lost, service killed) is retried with the same key until the service
  answers, as a real app would.
* Drivers (``fixed_count``: one per bus) fetch their route every few seconds, report where the bus will be
  next (its next stop and the planned arrival there, as a tablet following the plan would), and report
  arrived / picked-up / dropped-off when the plan's time for the next stop has come.
* Operators watch the fleet and the key figures.
* With ``abuser`` in the scenario (``python -m loadtests.run --abuser-rate 50``), one abusive client asks
  for quotes at that many per second under one rider's key, from one address, whatever the answers; its
  429 answers (rate-limited) are what is expected of it, recorded, not failures.

Each rider comes from an address of its own (``X-Forwarded-For``, which the service's uvicorn believes
from 127.0.0.1, its trusted proxy): limits per address then count one rider, as in the field, not all the
simulated users behind Locust's one address.

Every user pauses a random 0–6 s before its first request (people open the app at different moments),
and every failed request is also written to the records file (Locust's own figures may be reset when
the ramp-up ends).

Configuration comes from the scenario file named by ``RUFBUS_LOAD_SCENARIO`` (written by
:mod:`loadtests.run`): the API keys, the road points trips are drawn from, the service's clock offset and
the file to which every answer the audit needs is appended (bookings told 201/200, cancellations, stop
reports), one JSON object a line.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import gevent
from gevent.pool import Pool
from locust import FastHttpUser, between, constant, events, task

from loadtests.trips import random_trip

ZONE = ZoneInfo("Europe/Vaduz")
BUSINESS_REFUSALS = {409}  # quote/booking refused with a cause: an answer, not a failure
RETRY_FOR_S = 60.0  # how long a rider retries a booking whose answer was lost
MAX_FIRST_PAUSE_S = 6.0  # the longest think time of a rider
OUTAGE = {0, 502, 503, 504}  # no answer (connection refused or cut), or the service says it cannot now


def _scenario() -> dict[str, Any]:
    path = os.environ.get("RUFBUS_LOAD_SCENARIO")
    return json.loads(Path(path).read_text()) if path else {
        "keys": {"riders": [], "drivers": [], "operators": []}, "points": [], "clock_offset_s": 0,
        "records": os.devnull, "seed": 1, "tolerate_outages": False}


SCENARIO = _scenario()
KEYS = SCENARIO["keys"]
_rider_numbers, _driver_numbers, _operator_numbers = count(), count(), count()
_records = open(SCENARIO["records"], "a", buffering=1)  # noqa: SIM115 - one line per answer, kept open


def record(event: str, **data: Any) -> None:
    """Append one answer the audit needs to the records file."""
    _records.write(json.dumps({"event": event, "at": time.time(), **data}) + "\n")


@events.request.add_listener
def record_failure(request_type: str, name: str, exception: BaseException | None = None, **_: Any) -> None:
    """Every failed request, whole run: Locust's own figures may be reset when the ramp-up ends."""
    if exception is not None:
        record("request_failed", method=request_type, name=name, error=str(exception)[:200])


def first_pause(rng: random.Random) -> None:
    """Before its first request a user pauses for a random part of its think time, as people do who open
    the app at different moments: users started together do not all ask in the same second."""
    gevent.sleep(rng.uniform(0, MAX_FIRST_PAUSE_S))


def rider_address(number: int) -> str:
    """The client address of rider ``number`` (a private IPv4 address of its own)."""
    return f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


def service_now() -> datetime:
    """The service's current local time (its clock may be shifted, see :mod:`loadtests.server`)."""
    return datetime.now(ZONE) + timedelta(seconds=SCENARIO["clock_offset_s"])


class Rider(FastHttpUser):
    """quote → book (Idempotency-Key) → poll status → sometimes cancel."""

    weight = 1
    wait_time = between(2, 6)

    def on_start(self) -> None:
        number = next(_rider_numbers)
        self.key = KEYS["riders"][number % len(KEYS["riders"])]
        self.auth = {"Authorization": f"Bearer {self.key}", "X-Forwarded-For": rider_address(number)}
        self.rng = random.Random(SCENARIO["seed"] * 100_003 + number)
        first_pause(self.rng)

    @task
    def trip(self) -> None:
        """One rider's trip from quote to (perhaps) cancellation."""
        body = random_trip(self.rng, SCENARIO["points"], service_now())
        with self.client.post("/v1/quotes", json=body, headers=self.auth, name="POST /v1/quotes",
                              catch_response=True) as answer:
            if answer.status_code in BUSINESS_REFUSALS:
                record("quote_refused", code=_code(answer))
                answer.success()
                return
            if answer.status_code != 200:
                _fail(answer, f"quote: {answer.status_code} {_text(answer)}")
                return
            offer = answer.json()
        time.sleep(self.rng.uniform(0.5, 2.0))  # the rider reads the offer
        booking = self.book(offer["quote_id"])
        if booking is None:
            return
        for _ in range(self.rng.randint(1, 3)):
            time.sleep(self.rng.uniform(1.0, 3.0))
            with self.client.get(f"/v1/bookings/{booking['id']}", headers=self.auth,
                                 name="GET /v1/bookings/{id}", catch_response=True) as answer:
                if answer.status_code != 200:
                    _fail(answer, f"booking status: {answer.status_code} {_text(answer)}")
        if self.rng.random() < 0.2:
            self.cancel(booking["id"])

    def book(self, quote_id: str) -> dict | None:
        """Book the offer; retry with the same key while no answer comes (at most RETRY_FOR_S)."""
        key = uuid.uuid4().hex
        headers = {**self.auth, "Idempotency-Key": key}
        deadline = time.monotonic() + RETRY_FOR_S
        attempt = 0
        while True:
            attempt += 1
            with self.client.post("/v1/bookings", json={"quote_id": quote_id}, headers=headers,
                                  name="POST /v1/bookings", catch_response=True) as answer:
                status = answer.status_code
                if status in (200, 201):
                    booking = answer.json()
                    record("booked", id=booking["id"], key=key, status=status, attempt=attempt,
                           vehicle_id=booking["vehicle_id"], window=booking["pickup_window"])
                    return booking
                if status in BUSINESS_REFUSALS:
                    record("booking_refused", key=key, code=_code(answer))
                    answer.success()
                    return None
                lost = status in OUTAGE  # no answer from the service
                if status == 404 and (attempt > 1 or SCENARIO.get("tolerate_outages")):
                    record("booking_lost_quote", key=key)  # the quote died with the process: nothing booked
                    answer.success()
                    return None
                _fail(answer, f"booking: {status} {_text(answer)}")
            if not lost or time.monotonic() > deadline:
                return None
            time.sleep(1.0)

    def cancel(self, booking_id: str) -> None:
        """Cancel; 409 (already picked up) is an answer, not a failure. The request is recorded before it is
        sent: a cancellation whose answer never arrives (the run ends) is still the client's."""
        record("cancel_requested", id=booking_id)
        with self.client.delete(f"/v1/bookings/{booking_id}", headers=self.auth,
                                name="DELETE /v1/bookings/{id}", catch_response=True) as answer:
            if answer.status_code == 200:
                record("cancelled", id=booking_id)
            elif answer.status_code in BUSINESS_REFUSALS:
                record("cancel_refused", id=booking_id, code=_code(answer))
                answer.success()
            else:
                _fail(answer, f"cancel: {answer.status_code} {_text(answer)}")


class AbusiveRider(FastHttpUser):
    """One client asking for quotes at ``abuser.rate`` per second, open loop: a new request every
    1/rate seconds whether or not the ones before were answered. Requests are named apart
    (``POST /v1/quotes (abusive)``) and every answer's status is recorded (``abusive_quote``)."""

    abstract = "abuser" not in SCENARIO  # no abusive client unless the run asks for one
    fixed_count = 1
    wait_time = constant(0)
    concurrency = 200  # connections this client may hold open at once

    def on_start(self) -> None:
        abuser = SCENARIO["abuser"]
        self.rate = float(abuser["rate"])
        self.auth = {"Authorization": f"Bearer {abuser['key']}", "X-Forwarded-For": "192.0.2.1"}
        self.rng = random.Random(SCENARIO["seed"] * 400_009)

    @task
    def hammer(self) -> None:
        """Send quotes at the rate until the run ends."""
        pool = Pool(self.concurrency)
        due = time.monotonic()
        while True:
            pool.spawn(self.quote)
            due += 1.0 / self.rate
            gevent.sleep(max(0.0, due - time.monotonic()))

    def quote(self) -> None:
        """One quote; 200, 409 (refused) and 429 (rate-limited) are answers, anything else a failure."""
        body = random_trip(self.rng, SCENARIO["points"], service_now())
        with self.client.post("/v1/quotes", json=body, headers=self.auth, name="POST /v1/quotes (abusive)",
                              catch_response=True) as answer:
            record("abusive_quote", status=answer.status_code)
            if answer.status_code in (200, 409, 429):
                answer.success()
            else:
                _fail(answer, f"abusive quote: {answer.status_code} {_text(answer)}")


class Driver(FastHttpUser):
    """Follows the plan of one bus: fetches the route, reports its position, reports arrived when the
    planned arrival at the next stop has come and picked-up / dropped-off when its planned start has.

    The simulated bus does not drive between stops: its GPS report is where the plan says it stands (the
    start of the route's geometry) since its last stop report — a position that moves nothing in the
    plan, so that a late or stale report cannot make the plan late (a real tablet sends where it is)."""

    fixed_count = len(KEYS["drivers"])
    wait_time = between(2, 4)

    def on_start(self) -> None:
        number = next(_driver_numbers)
        key, self.vehicle_id = KEYS["drivers"][number % max(1, len(KEYS["drivers"]))]
        self.auth = {"Authorization": f"Bearer {key}"}
        first_pause(random.Random(SCENARIO["seed"] * 200_003 + number))
        self.since = datetime.fromisoformat(SCENARIO["started_at"]) if "started_at" in SCENARIO else None
        self.arrived_at: tuple[str, str | None] | None = None  # the stop the bus stands at, reported

    @task
    def drive(self) -> None:
        """Fetch the route; report the position; serve the next stop if its time has come."""
        with self.client.get("/v1/driver/route", headers=self.auth, name="GET /v1/driver/route",
                             catch_response=True) as answer:
            if answer.status_code != 200:
                _fail(answer, f"route: {answer.status_code} {_text(answer)}")
                return
            route = answer.json()
        if route["geometry"] and self.since is not None:
            lon, lat = route["geometry"]["coordinates"][0]
            position = {"lat": lat, "lon": lon, "at": self.since.isoformat()}
            self._post("/v1/driver/positions", {"positions": [position]}, 202, "POST /v1/driver/positions")
        stops = route["stops"]
        if not stops or stops[0]["kind"] == "break":
            return
        nxt = stops[0]
        stop = (nxt["kind"], nxt["booking_id"])
        now = service_now()
        if stop != self.arrived_at:
            if now < datetime.fromisoformat(nxt["planned_arrival"]):
                return
            if not self._post("/v1/driver/arrived", None, 204, "POST /v1/driver/arrived"):
                return
            self.arrived_at, self.since = stop, now
        if now < datetime.fromisoformat(nxt["planned_start"]):
            return
        action = "picked-up" if nxt["kind"] == "pickup" else "dropped-off"
        now = service_now()
        record(f"{action.replace('-', '_')}_requested", id=nxt["booking_id"], vehicle_id=self.vehicle_id)
        if self._post(f"/v1/driver/{action}", {"booking_id": nxt["booking_id"]}, 204,
                      f"POST /v1/driver/{action}"):
            record(action.replace("-", "_"), id=nxt["booking_id"], vehicle_id=self.vehicle_id)
            self.since = now
        self.arrived_at = None

    def _post(self, path: str, body: dict | None, expected: int, name: str) -> bool:
        """POST; True on ``expected``. 409 (the stop changed: a rider cancelled meanwhile) is an answer."""
        with self.client.post(path, json=body, headers=self.auth, name=name, catch_response=True) as answer:
            if answer.status_code == expected:
                return True
            if answer.status_code in BUSINESS_REFUSALS:
                answer.success()
            else:
                _fail(answer, f"{name}: {answer.status_code} {_text(answer)}")
            return False


class Operator(FastHttpUser):
    """Watches the live fleet and the day's key figures."""

    fixed_count = len(KEYS["operators"])
    wait_time = between(3, 6)

    def on_start(self) -> None:
        number = next(_operator_numbers)
        key = KEYS["operators"][number % max(1, len(KEYS["operators"]))]
        self.auth = {"Authorization": f"Bearer {key}"}
        first_pause(random.Random(SCENARIO["seed"] * 300_007 + number))

    @task(3)
    def fleet(self) -> None:
        """The fleet at a glance."""
        with self.client.get("/v1/operator/fleet", headers=self.auth, name="GET /v1/operator/fleet",
                             catch_response=True) as answer:
            if answer.status_code != 200:
                _fail(answer, f"fleet: {answer.status_code}")

    @task(1)
    def kpis(self) -> None:
        """Today's figures."""
        now = service_now()
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        params = {"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()}
        with self.client.get("/v1/operator/kpis", params=params, headers=self.auth,
                             name="GET /v1/operator/kpis", catch_response=True) as answer:
            if answer.status_code != 200:
                _fail(answer, f"kpis: {answer.status_code} {_text(answer)}")


def _fail(answer: Any, message: str) -> None:
    """Mark a request failed — unless this is a fault run and the service was down (no answer, 50x):
    then it is recorded as an outage, which the fault runner reports on its own."""
    if SCENARIO.get("tolerate_outages") and answer.status_code in OUTAGE:
        record("outage", status=answer.status_code, message=message[:200])
        answer.success()
    else:
        answer.failure(message)


def _text(answer: Any) -> str:
    """The start of the body, or the transport error when there was no answer."""
    if answer.status_code == 0:
        return repr(getattr(answer, "error", None))[:200]
    return (answer.text or "")[:200]


def _code(answer: Any) -> str:
    try:
        return str(answer.json().get("code"))
    except (ValueError, AttributeError):
        return "?"
