"""The ``rufbus`` command line: one entry point that every part of the service extends."""

from __future__ import annotations

import typer

from routing.cli import graph_app

app = typer.Typer(help="Rufbus: open on-demand rural bus dispatch.", no_args_is_help=True)
app.add_typer(graph_app, name="graph", help="Road network: build, inspect and cache the drivable graph.")


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
