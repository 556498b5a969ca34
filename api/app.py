"""The HTTP service. For now: a health page showing the loaded region; riders', drivers' and
operators' endpoints come with the service issue."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from routing.network import RoadNetwork
from routing.settings import RoutingSettings

ATTRIBUTION = "© OpenStreetMap contributors"


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    """Build the application; the road network is loaded (from cache) when the app starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.network = RoadNetwork.load(settings=settings or RoutingSettings.from_env())
        yield

    app = FastAPI(title="Rufbus", version="0.1.0", lifespan=lifespan,
                  description="Open on-demand rural bus dispatch. Map data " + ATTRIBUTION + ".")

    @app.get("/health")
    def health() -> dict:
        """Liveness and the loaded region's figures."""
        network: RoadNetwork = app.state.network
        graph = network.graph
        return {"status": "ok", "region": str(network.settings.osm_file.name), "nodes": graph.node_count,
                "edges": graph.edge_count, "road_km": round(float(graph.meta["road_km"]), 1),
                "attribution": ATTRIBUTION}

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        """A minimal status page."""
        figures = health()
        return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Rufbus</title></head>"
                f"<body><h1>Rufbus</h1><p>Service running on {figures['region']}: {figures['nodes']:,} road "
                f"nodes, {figures['road_km']:,} km of road.</p><p><a href='/docs'>API documentation</a></p>"
                f"<footer>Map data {ATTRIBUTION}</footer></body></html>")

    return app
