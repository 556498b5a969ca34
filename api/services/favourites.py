"""A rider's favourite places and companions: kept server-side, one list per rider.

Every function acts for ``rider`` (a rider's user row) on that rider's own rows: another rider's id answers
404 like an unknown one (``unknown_favourite``, ``unknown_companion``), so ids cannot be probed. A rider
keeps at most :data:`MAX_FAVOURITES` places and :data:`MAX_COMPANIONS` companions (409 ``too_many_*``
beyond). A companion's category (adult, child, senior, wheelchair, companion) says what seat they take
when the rider books with them: a wheelchair user a wheelchair space, everybody else a seat.
"""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, SQLModel, col, func, select

from api.db.models import Companion, FavouritePlace, User
from api.errors import Conflict, NotFound
from api.schemas import CompanionBody, CompanionPublic, FavouritePlaceBody, FavouritePlacePublic

MAX_FAVOURITES = 50
MAX_COMPANIONS = 20

Owned = TypeVar("Owned", FavouritePlace, Companion)


def list_favourites(session: Session, *, rider: User) -> list[FavouritePlacePublic]:
    """The rider's favourite places, by name."""
    rows = session.exec(select(FavouritePlace).where(FavouritePlace.rider_id == rider.id)
                        .order_by(col(FavouritePlace.name), col(FavouritePlace.id))).all()
    return [_place(row) for row in rows]


def add_favourite(session: Session, *, rider: User, body: FavouritePlaceBody) -> FavouritePlacePublic:
    """Save a favourite place."""
    _check_room(session, FavouritePlace, rider, MAX_FAVOURITES, "too_many_favourites")
    row = FavouritePlace(rider_id=_id(rider), **body.model_dump())
    return _place(_save(session, row))


def change_favourite(session: Session, *, rider: User, favourite_id: int, body: FavouritePlaceBody
                     ) -> FavouritePlacePublic:
    """Rename or move a favourite place."""
    row = _owned(session, FavouritePlace, rider, favourite_id, "unknown_favourite")
    row.sqlmodel_update(body.model_dump())
    return _place(_save(session, row))


def remove_favourite(session: Session, *, rider: User, favourite_id: int) -> None:
    """Forget a favourite place."""
    _remove(session, _owned(session, FavouritePlace, rider, favourite_id, "unknown_favourite"))


def list_companions(session: Session, *, rider: User) -> list[CompanionPublic]:
    """The rider's companions, by name."""
    rows = session.exec(select(Companion).where(Companion.rider_id == rider.id)
                        .order_by(col(Companion.name), col(Companion.id))).all()
    return [_companion(row) for row in rows]


def add_companion(session: Session, *, rider: User, body: CompanionBody) -> CompanionPublic:
    """Save a companion."""
    _check_room(session, Companion, rider, MAX_COMPANIONS, "too_many_companions")
    row = Companion(rider_id=_id(rider), **body.model_dump())
    return _companion(_save(session, row))


def change_companion(session: Session, *, rider: User, companion_id: int, body: CompanionBody
                     ) -> CompanionPublic:
    """Rename a companion or change their category."""
    row = _owned(session, Companion, rider, companion_id, "unknown_companion")
    row.sqlmodel_update(body.model_dump())
    return _companion(_save(session, row))


def remove_companion(session: Session, *, rider: User, companion_id: int) -> None:
    """Forget a companion."""
    _remove(session, _owned(session, Companion, rider, companion_id, "unknown_companion"))


# ----- helpers ---------------------------------------------------------------------------------------
# Each check reads in a transaction of its own and the write follows in another: on SQLite (WAL) a read
# transaction that later writes fails at once ("database is locked") if anybody wrote in between, while
# a transaction that starts by writing waits its turn.

def _id(rider: User) -> int:
    assert rider.id is not None, "users come from the database"
    return rider.id


def _owned(session: Session, model: type[Owned], rider: User, row_id: int, code: str) -> Owned:
    """The row ``row_id`` of ``model`` if it is ``rider``'s; 404 ``code`` otherwise."""
    row = session.get(model, row_id)
    session.commit()  # end the read: the write that follows has a transaction of its own (note above)
    if row is None or row.rider_id != rider.id:
        raise NotFound(code, f"no such entry with id {row_id}")
    return row


def _check_room(session: Session, model: type[Owned], rider: User, most: int, code: str) -> None:
    held = session.exec(select(func.count()).select_from(model).where(col(model.rider_id) == rider.id)).one()
    session.commit()  # end the read (see the note above)
    if held >= most:
        raise Conflict(code, f"you keep at most {most} of these; remove one first")


def _save(session: Session, row: Owned) -> Owned:
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def _remove(session: Session, row: SQLModel) -> None:
    session.delete(row)
    session.commit()


def _place(row: FavouritePlace) -> FavouritePlacePublic:
    assert row.id is not None
    return FavouritePlacePublic(id=row.id, name=row.name, lat=row.lat, lon=row.lon)


def _companion(row: Companion) -> CompanionPublic:
    assert row.id is not None
    return CompanionPublic(id=row.id, name=row.name, category=row.category)
