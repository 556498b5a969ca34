"""Security headers on every HTTP answer — pages, API, static files, errors.

The web apps (``/app``, ``/driver``, ``/operator``) load only their own scripts and styles from
``/static``; there are no inline scripts, so scripts are limited to the origin. Styles may be inline:
Leaflet positions map elements with style attributes, and the simulation report (opened by the operator
page as a ``blob:`` document, which inherits this policy) carries its own ``<style>``. Images may be
``data:`` and ``blob:`` URLs (the report's figures, Leaflet's icons); connections (``fetch`` and the
live WebSockets) go to the origin only, and so do the riders' app's service worker and manifest. No page may
be framed.

The interactive API docs (``/docs``, ``/redoc``) are off: FastAPI's pages load Swagger UI and ReDoc from a
CDN, and no installed package ships those assets. The schema stays at ``/openapi.json``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """ASGI middleware: adds :data:`SECURITY_HEADERS` to every HTTP answer (a header the answer already
    sets is kept). Install it outermost, so that answers of other middleware get them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
