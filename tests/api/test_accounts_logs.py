"""No secret reaches a log (api.accounts.redaction and the accounts' own logging): a whole account's
life — sign-up, code, tokens, a stream ticket in a WebSocket URL, renewal, a device key, revocation —
run against the service under a real uvicorn, with every logger captured at DEBUG, including uvicorn's
access log and its WebSocket lines, which print request paths."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sqlmodel import Session
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from api.accounts.redaction import redact
from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.settings import Settings
from tests.api.conftest import NOW, ZONE
from tests.api.test_recovery import free_port
from tests.smtp import LocalSmtp

CODE = re.compile(r"\b(\d{6})\b")
# The test's own tools log what they send and receive (the local SMTP server the mail, the clients the
# URLs they open): they are not the service.
CLIENT_SIDE = ("mail.log", "httpx", "httpcore", "websockets.client")


@pytest.fixture
def served(tmp_path, smtp_server: LocalSmtp) -> Iterator[tuple[str, object]]:
    """The service under uvicorn in this process (its log records reach pytest's capture); base URL
    and app."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'rufbus.sqlite3'}", demo_buses=1,
                        reoptimize_every_s=0, smtp_host=smtp_server.server.host,
                        smtp_port=smtp_server.server.port)
    app = create_app(settings, clock=ServiceClock(ZONE, wall_clock=lambda: NOW))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           log_level="debug", access_log=True))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_redaction_hides_query_secrets_and_bearer_credentials():
    """Ticket, token, key and code values in a path and a bearer credential read [redacted]."""
    line = '127.0.0.1 - "WebSocket /v1/operator/stream?vehicle_id=bus-1&ticket=wt_abc123" Bearer at_xyz'
    assert redact(line) == ('127.0.0.1 - "WebSocket /v1/operator/stream?vehicle_id=bus-1&ticket=[redacted]" '
                            'Bearer [redacted]')


def test_no_code_token_ticket_key_or_address_is_logged(served, smtp_server, caplog):
    """Through the whole flow, no log record holds the address, the code, an access or refresh token,
    the ticket or the device key — while uvicorn did log the stream's path (so the capture works)."""
    base_url, app = served
    email = "logged.rider@example.org"
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        assert client.post("/v1/auth/sign-up", json={"name": "Lou", "email": email}).status_code == 202
        [mail] = smtp_server.mailbox.wait_for(1)
        code = CODE.search(mail.get_content()).group(1)
        tokens = client.post("/v1/auth/verify", json={"email": email, "code": code}).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        ticket = client.post("/v1/auth/ws-ticket", headers=auth).json()["ticket"]
        stream = f"ws://127.0.0.1:{base_url.rsplit(':', 1)[1]}/v1/bookings/none/stream?ticket={ticket}"
        with connect(stream) as websocket, pytest.raises(ConnectionClosed):  # unknown booking: 4404
            websocket.recv(timeout=10)
        renewed = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
        client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})  # reuse: revoked
        with Session(app.state.engine) as session:
            key = create_user(session, name="Tab", role="driver", vehicle_id="bus-1")[1]
        client.post("/v1/auth/device", json={"api_key": key})
        client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
    time.sleep(0.2)  # the last access lines
    lines = [record.getMessage() for record in caplog.records if not record.name.startswith(CLIENT_SIDE)]
    assert any("/v1/bookings/none/stream?ticket=[redacted]" in line for line in lines), "no stream line"
    assert any("POST /v1/auth/verify" in line for line in lines), "uvicorn's access log was not captured"
    secrets = {"address": email, "code": code, "access": tokens["access_token"],
               "refresh": tokens["refresh_token"], "renewed": renewed["refresh_token"], "ticket": ticket,
               "key": key}
    leaked = {name for name, secret in secrets.items() for line in lines if secret in line}
    assert leaked == set()
