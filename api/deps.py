"""FastAPI dependencies as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.db.session import SessionDep
from api.services.booking import LiveDispatch


def get_live_dispatch(request: Request) -> LiveDispatch:
    """The in-process dispatcher the app built at start (``app.state.dispatch``)."""
    return request.app.state.dispatch


DispatchDep = Annotated[LiveDispatch, Depends(get_live_dispatch)]

__all__ = ["DispatchDep", "SessionDep", "get_live_dispatch"]
