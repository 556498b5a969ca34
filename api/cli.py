"""The ``rufbus`` command line: one entry point that every part of the service extends."""

from __future__ import annotations

import typer

from routing.cli import graph_app

app = typer.Typer(help="Rufbus: open on-demand rural bus dispatch.", no_args_is_help=True)
app.add_typer(graph_app, name="graph", help="Road network: build, inspect and cache the drivable graph.")
db_app = typer.Typer(help="Service database.", no_args_is_help=True)
app.add_typer(db_app, name="db", help="Service database: migrate the schema.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database in DATABASE_URL (default: SQLite under .cache/rufbus) to the newest schema."""
    from api.db.migrate import upgrade_database
    from api.settings import Settings

    settings = Settings()
    upgrade_database(settings.database_url)
    typer.echo(f"database at the newest schema: {_hide_password(settings.database_url)}")


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Start the HTTP service."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host, port=port)


if __name__ == "__main__":
    app()
