"""Secrets stay out of the logs, also where the service does not write them itself.

A WebSocket ticket travels in the URL (``?ticket=``: browsers cannot set headers on a WebSocket), and
uvicorn logs the paths of requests and connections. :class:`RedactSecrets` rewrites every record of the
loggers it is installed on so that ticket, token, key and code values in query strings and bearer
credentials read ``[redacted]``. Tickets are single-use and live seconds, so this is defence in depth.
"""

from __future__ import annotations

import logging
import re

SECRET_IN_QUERY = re.compile(r"(?i)\b(ticket|access_token|refresh_token|token|api_key|key|code)=[^&\s\"']+")
BEARER = re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]+")
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn")


def redact(text: str) -> str:
    """``text`` with secret query values and bearer credentials replaced."""
    return BEARER.sub("Bearer [redacted]", SECRET_IN_QUERY.sub(r"\1=[redacted]", text))


class RedactSecrets(logging.Filter):
    """A filter that redacts a record's message and its arguments (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def install(names: tuple[str, ...] = LOGGERS) -> None:
    """Put one :class:`RedactSecrets` on each of the loggers ``names`` (again: nothing more)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
