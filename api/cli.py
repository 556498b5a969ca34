"""The ``rufbus`` command line: one entry point that every part of the service extends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from routing.cli import graph_app
from simulation import cli as simulation_cli

if TYPE_CHECKING:
    from sqlmodel import Session

    from api.accounts.revocation import Revocation
    from api.db.models import User

app = typer.Typer(help="Rufbus: open on-demand rural bus dispatch.", no_args_is_help=True)
app.add_typer(graph_app, name="graph", help="Road network: build, inspect and cache the drivable graph.")
db_app = typer.Typer(help="Service database.", no_args_is_help=True)
app.add_typer(db_app, name="db", help="Service database: migrate the schema.")
app.command()(simulation_cli.simulate)
app.command()(simulation_cli.sweep)
app.command()(simulation_cli.hindsight)
user_app = typer.Typer(help="Users: create them, set their e-mail address, sign them out.",
                       no_args_is_help=True)
app.add_typer(user_app, name="user", help="Users: create riders, drivers and operators, sign them out.")
key_app = typer.Typer(help="API keys of machine clients and drivers' tablets.", no_args_is_help=True)
app.add_typer(key_app, name="key", help="API keys: rotate or revoke a user's key.")
retention_app = typer.Typer(help="Riders' data: coarsen and prune what is due.", no_args_is_help=True)
app.add_typer(retention_app, name="retention", help="Retention: coarsen old trips' places, prune old events.")
gtfs_app = typer.Typer(help="The published GTFS feed.", no_args_is_help=True)
app.add_typer(gtfs_app, name="gtfs", help="GTFS: export the static feed with GTFS-Flex.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database in DATABASE_URL (default: SQLite under .cache/rufbus) to the newest schema."""
    from api.db.migrate import upgrade_database
    from api.settings import Settings

    settings = Settings()
    upgrade_database(settings.database_url)
    typer.echo(f"database at the newest schema: {_hide_password(settings.database_url)}")


@user_app.command("create")
def user_create(
    name: str = typer.Option(..., help="The user's name."),
    role: str = typer.Option(..., help="rider, driver or operator."),
    vehicle: str | None = typer.Option(None, help="Drivers: the id of the bus they drive (e.g. bus-1)."),
    email: str | None = typer.Option(None, help="The address they sign in with (a code is mailed to it)."),
    key: bool | None = typer.Option(None, "--key/--no-key",
                                    help="Make an API key too (default: only without --email)."),
) -> None:
    """Create a user in the DATABASE_URL database; with an API key, print it (shown only this once)."""
    from api.auth import InvalidUser, create_account, rotate_key
    from api.db.models import UserRole

    if role not in {r.value for r in UserRole}:
        choices = ", ".join(r.value for r in UserRole)
        raise typer.BadParameter(f"must be one of {choices}", param_hint="--role")
    with _database() as session:
        try:
            user = create_account(session, name=name, role=UserRole(role), vehicle_id=vehicle, email=email)
        except InvalidUser as error:
            raise typer.BadParameter(str(error)) from error
        made = rotate_key(session, user) if (key if key is not None else email is None) else None
    bus = f", drives {user.vehicle_id}" if user.vehicle_id else ""
    typer.echo(f"created {user.role.value} {user.name!r} (id {user.id}{bus})")
    if user.email:
        typer.echo("signs in with a code mailed to their e-mail address")
    if made is not None:
        typer.echo("API key (shown only now; send it as Authorization: Bearer <key>):")
        typer.echo(made)


@user_app.command("email")
def user_email(user_id: int = typer.Argument(..., help="The user's id."),
               email: str = typer.Argument(..., help="The address they sign in with.")) -> None:
    """Set the address a user signs in with (drivers and operators: set by an operator)."""
    from api.auth import InvalidUser, set_email

    with _database() as session:
        user = _user(session, user_id)
        try:
            set_email(session, user, email)
        except InvalidUser as error:
            raise typer.BadParameter(str(error)) from error
        session.add(user)
        session.commit()
    typer.echo(f"user {user_id} signs in with their new address")


@user_app.command("revoke")
def user_revoke(user_id: int = typer.Argument(..., help="The user's id.")) -> None:
    """Sign a user out everywhere: end every session, take their API key away, close their streams."""
    from api.accounts.admin import sign_out_everywhere
    from api.db.models import utc_now

    with _database() as session:
        revocations = sign_out_everywhere(session, _user(session, user_id), reason="cli", now=utc_now())
    _announce(revocations)
    typer.echo(f"user {user_id} is signed out everywhere")


@key_app.command("rotate")
def key_rotate(user_id: int = typer.Argument(..., help="The user's id."),
               expires_in_days: int | None = typer.Option(
                   None, min=1, max=3660, help="Days the new key is valid (default: until rotated).")
               ) -> None:
    """Give a user a new API key and print it (shown only now); the old key stops at once."""
    from datetime import timedelta

    from api.accounts.admin import rotate_user_key
    from api.db.models import utc_now

    now = utc_now()
    expires = now + timedelta(days=expires_in_days) if expires_in_days else None
    with _database() as session:
        made, revocations = rotate_user_key(session, _user(session, user_id), expires_at=expires, now=now)
    _announce(revocations)
    until = f", valid until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""
    typer.echo(f"new API key of user {user_id}{until}")
    typer.echo("(shown only now; send it as Authorization: Bearer <key>):")
    typer.echo(made)


@key_app.command("revoke")
def key_revoke(user_id: int = typer.Argument(..., help="The user's id.")) -> None:
    """Take a user's API key away (and end the sessions it opened)."""
    from api.accounts.admin import revoke_user_key
    from api.db.models import utc_now

    with _database() as session:
        revocations = revoke_user_key(session, _user(session, user_id), now=utc_now())
    _announce(revocations)
    typer.echo(f"user {user_id} has no API key now")


@contextmanager
def _database() -> Iterator[Session]:
    """A session on the DATABASE_URL database, migrated to the newest schema first."""
    from sqlmodel import Session

    from api.db.migrate import upgrade_database
    from api.db.session import create_db_engine
    from api.settings import Settings

    settings = Settings()
    upgrade_database(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _user(session: Session, user_id: int) -> User:
    from api.db.models import User

    user = session.get(User, user_id)
    if user is None:
        raise typer.BadParameter(f"no user with id {user_id}", param_hint="USER_ID")
    return user


def _announce(revocations: list[Revocation]) -> None:
    """With REDIS_URL, tell the running workers at once; without, their streams notice within
    RUFBUS_STREAM_RECHECK_S."""
    from api.accounts.admin import publish
    from api.settings import Settings

    settings = Settings()
    if settings.redis_url:
        publish(settings.redis_url, settings.area, revocations)


@retention_app.command("run")
def retention_run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what is due; change nothing."),
) -> None:
    """Coarsen the places of trips and prune the events older than the operators' retention settings say,
    in the DATABASE_URL database, as the service does every RUFBUS_RETENTION_EVERY_S; print the counts."""
    from sqlmodel import Session

    from api.clock import ServiceClock
    from api.db.migrate import upgrade_database
    from api.db.session import create_db_engine
    from api.services.retention import road_cells, run_retention
    from api.settings import Settings
    from routing.network import RoadNetwork

    settings = Settings()
    upgrade_database(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        with Session(engine) as session:
            cells = None if dry_run else road_cells(RoadNetwork.load())
            done = run_retention(session, now=ServiceClock.for_zone(settings.timezone).now_datetime(),
                                 cell_node=cells, dry_run=dry_run)
    finally:
        engine.dispose()
    verb = ("would coarsen", "would prune") if dry_run else ("coarsened", "pruned")
    typer.echo(f"{verb[0]} {done.bookings_coarsened} bookings "
               f"(trips before {done.coarsened_before:%Y-%m-%d}), "
               f"{verb[1]} {done.events_pruned} events (before {done.pruned_before:%Y-%m-%d})")


@gtfs_app.command("export")
def gtfs_export(
    file: Path = typer.Argument(..., help="Where to write the zip (e.g. gtfs.zip).", dir_okay=False),
    start: datetime | None = typer.Option(None, formats=["%Y-%m-%d"],
                                          help="The feed's first day (default: today, local time)."),
) -> None:
    """Write the GTFS feed with Flex that GET /feeds/gtfs.zip serves, from the DATABASE_URL database and
    the region's road network (its named stops, and its area where none is stored)."""
    from sqlmodel import Session

    from api.clock import ServiceClock
    from api.db.migrate import upgrade_database
    from api.db.session import create_db_engine
    from api.services.feeds import gtfs_feed
    from api.services.service_area import apply_stored_area
    from api.settings import Settings
    from api.stops import StopDirectory
    from routing.network import RoadNetwork

    if not file.parent.is_dir():
        raise typer.BadParameter(f"no such directory: {file.parent}", param_hint="FILE")
    settings = Settings()
    clock = ServiceClock.for_zone(settings.timezone)
    upgrade_database(settings.database_url)
    engine = create_db_engine(settings.database_url)
    network = RoadNetwork.load()
    try:
        with Session(engine) as session:
            apply_stored_area(session, network)  # the stops a quote takes are those of the area in force
            content = gtfs_feed(session, settings=settings, clock=clock,
                                built_in_area=network.service_area.polygon,
                                stops=StopDirectory.for_network(network).stops,
                                first_day=start.date() if start else clock.now_datetime().date())
    finally:
        engine.dispose()
    file.write_bytes(content)
    typer.echo(f"wrote {file} ({len(content):,} bytes)")


@app.command()
def twin(
    start: datetime = typer.Option(..., "--from", formats=["%Y-%m-%d"], help="The first recorded day."),
    end: datetime | None = typer.Option(None, "--to", formats=["%Y-%m-%d"],
                                        help="The last recorded day (default: --from)."),
    buses: int | None = typer.Option(None, min=1, help="Proposed fleet size."),
    rule: list[str] = typer.Option([], help="Proposed rule, key=value (repeatable), e.g. max_wait_s=1200."),
    mode: str | None = typer.Option(None, help="Proposed meeting-point mode: door_to_door, hybrid, "
                                               "stops_only."),
    shift: str | None = typer.Option(None, help="Proposed shift for every bus, HH:MM-HH:MM (local)."),
    reopt_every_min: int | None = typer.Option(None, "--reopt-every-min", min=0, max=24 * 60,
                                               help=simulation_cli.REOPT_EVERY_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
) -> None:
    """Digital twin: replay the recorded days of the DATABASE_URL service as they were and with the
    proposed change, and print recorded, baseline and proposal side by side."""
    import json

    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from api.clock import ServiceClock
    from api.db.migrate import upgrade_database
    from api.db.session import create_db_engine
    from api.errors import ServiceError
    from api.services.twin import ROWS, run_twin_job, twin_params
    from api.settings import Settings
    from routing.network import RoadNetwork
    from simulation.twin import change_from_text

    try:
        change = change_from_text(rule, buses=buses, mode=mode, shift=shift)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    settings = Settings()
    clock = ServiceClock.for_zone(settings.timezone)
    upgrade_database(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        with Session(engine) as session:
            params = twin_params(session, clock=clock, first=start.date(),
                                 last=(end or start).date(), change=change,
                                 reoptimize_every_s=None if reopt_every_min is None else reopt_every_min * 60)
        results, _ = run_twin_job(engine, RoadNetwork.load(), params)
    except ServiceError as error:
        raise typer.BadParameter(error.message) from error
    except SQLAlchemyError as error:
        raise typer.BadParameter(f"the database could not be read: {type(error).__name__}") from error
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(results, indent=2, default=str))
        return
    typer.echo(f"{'':20}{'recorded':>12}{'as recorded':>14}{'proposal':>12}")
    for key, label in ROWS:
        values = [results[side].get(key) for side in ("recorded", "baseline", "proposal")]
        typer.echo(f"{label:20}" + "".join(f"{'-' if v is None else v!s:>{w}}"
                                           for v, w in zip(values, (12, 14, 12), strict=True)))


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes; more than one needs REDIS_URL."),
    demo_users: bool = typer.Option(False, "--demo-users",
                                    help="Into an empty users table, put a demo rider, driver and operator "
                                         "and print their API keys here once."),
) -> None:
    """Start the HTTP service (several workers share one dispatcher through Redis: see api.live)."""
    import os

    import uvicorn

    from api.settings import Settings

    if workers > 1 and Settings().redis_url is None:
        raise typer.BadParameter("several workers share one dispatcher through Redis: set REDIS_URL",
                                 param_hint="--workers")
    if demo_users:
        os.environ["RUFBUS_DEMO_USERS"] = "true"  # read by every worker's Settings
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)


if __name__ == "__main__":
    app()
