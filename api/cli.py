"""The ``rufbus`` command line: one entry point that every part of the service extends."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from routing.cli import graph_app
from simulation import cli as simulation_cli

app = typer.Typer(help="Rufbus: open on-demand rural bus dispatch.", no_args_is_help=True)
app.add_typer(graph_app, name="graph", help="Road network: build, inspect and cache the drivable graph.")
db_app = typer.Typer(help="Service database.", no_args_is_help=True)
app.add_typer(db_app, name="db", help="Service database: migrate the schema.")
app.command()(simulation_cli.simulate)
app.command()(simulation_cli.sweep)
app.command()(simulation_cli.hindsight)
user_app = typer.Typer(help="Users and their API keys.", no_args_is_help=True)
app.add_typer(user_app, name="user", help="Users: create riders, drivers and operators with an API key.")
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
) -> None:
    """Create a user in the DATABASE_URL database and print their API key; it is shown only this once."""
    from sqlmodel import Session

    from api.auth import InvalidUser, create_user
    from api.db.migrate import upgrade_database
    from api.db.models import UserRole
    from api.db.session import create_db_engine
    from api.settings import Settings

    if role not in {r.value for r in UserRole}:
        choices = ", ".join(r.value for r in UserRole)
        raise typer.BadParameter(f"must be one of {choices}", param_hint="--role")
    settings = Settings()
    upgrade_database(settings.database_url)
    engine = create_db_engine(settings.database_url)
    try:
        with Session(engine) as session:
            user, key = create_user(session, name=name, role=UserRole(role), vehicle_id=vehicle)
    except InvalidUser as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        engine.dispose()
    bus = f", drives {user.vehicle_id}" if user.vehicle_id else ""
    typer.echo(f"created {user.role.value} {user.name!r} (id {user.id}{bus})")
    typer.echo("API key (shown only now; send it as Authorization: Bearer <key>):")
    typer.echo(key)


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
) -> None:
    """Start the HTTP service (several workers share one dispatcher through Redis: see api.live)."""
    import uvicorn

    from api.settings import Settings

    if workers > 1 and Settings().redis_url is None:
        raise typer.BadParameter("several workers share one dispatcher through Redis: set REDIS_URL",
                                 param_hint="--workers")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)


if __name__ == "__main__":
    app()
