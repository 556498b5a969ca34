"""The HTTP service: a health page, the riders' API (:mod:`api.routes.rider`), the drivers' API
(:mod:`api.routes.driver`), the operators' API (:mod:`api.routes.operator`), the live WebSocket streams
(:mod:`api.routes.live`), named stops, the open-data feeds (:mod:`api.routes.feeds`: GTFS with Flex and
GTFS-Realtime), the county's reports (:mod:`api.routes.reports`) and the web apps.

At start the app migrates the database (``DATABASE_URL``), loads the road network and builds the
dispatcher from the database (:mod:`api.services.startup`: the fleet and shifts stored — the demo fleet
only into an empty table —, the newest service rules and area, and every booking and route saved). The
live layer (:mod:`api.live`) then publishes the plan's changes; with ``REDIS_URL`` the workers elect one
dispatcher and forward to it. A background thread re-optimizes the plan
(:mod:`api.services.reoptimizer`), another keeps every shift within the booking horizon planned
(:mod:`api.services.horizon`), another delivers riders' notifications from the outbox
(:mod:`api.services.outbox`), another books the days of riders' recurring trips as they come into the
booking horizon (:mod:`api.services.recurring`), another coarsens and prunes riders' data as the operators'
retention settings say (:mod:`api.services.retention`). Operators' simulations run in a worker process of
their own
(:mod:`api.services.simulation_worker`), started when the first one is submitted."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from api.accounts import redaction
from api.accounts.identity import EmailCodeProvider
from api.accounts.revocation import RevocationBoard
from api.auth import KeyCache, print_demo_users
from api.busy_retry import RetryLockedDatabase
from api.clock import ServiceClock
from api.db.migrate import upgrade_database
from api.db.models import utc_now
from api.db.session import create_db_engine
from api.deps import walk_loader
from api.errors import install_error_handlers
from api.live.forwarding import ForwardToDispatcher
from api.live.layer import LiveLayer, live_status, startup_lock
from api.positions import PositionLog
from api.rate_limits import RateLimits, RefuseKnownOverLimit
from api.routes import auth as auth_routes
from api.routes import basemap as basemap_routes
from api.routes import calendar as calendar_routes
from api.routes import control as control_routes
from api.routes import desk as desk_routes
from api.routes import driver, feeds, operator, rider, rider_profile
from api.routes import live as live_routes
from api.routes import meeting_points as meeting_point_routes
from api.routes import notices as notice_routes
from api.routes import places as place_routes
from api.routes import privacy as privacy_routes
from api.routes import reports as report_routes
from api.routes import simulations as simulation_routes
from api.routes import stops as stops_routes
from api.routes import tariff as tariff_routes
from api.routes import twin as twin_routes
from api.routes import web as web_routes
from api.security import SecurityHeaders
from api.services.horizon import HorizonTimer
from api.services.live_plan import LiveDispatch
from api.services.notice_push import NOTICE_KIND, NoticePublisher, publish_notices
from api.services.notice_texts import NoticeTexts
from api.services.outbox import OutboxSender
from api.services.recurring import RecurringBooker
from api.services.reoptimizer import BackgroundReoptimizer
from api.services.retention import RetentionTimer, road_cells
from api.services.simulation_worker import SimulationWorker, WorkerConfig
from api.services.startup import build_dispatcher
from api.services.tariff import FaresDue
from api.settings import Settings
from api.stops import StopDirectory
from routing import parallel as matrix_workers
from routing.network import RoadNetwork
from routing.settings import RoutingSettings

logger = logging.getLogger(__name__)

ATTRIBUTION = "© OpenStreetMap contributors"
WORKER_THREADS = 400  # at least the concurrent requests a worker may hold (see lifespan)


def create_app(settings: Settings | None = None, *, routing_settings: RoutingSettings | None = None,
               clock: ServiceClock | None = None) -> FastAPI:
    """Build the application; nothing heavy happens until it starts. Tests pass their own settings
    (e.g. a temporary SQLite ``database_url``) and clock; by default both come from the environment."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = settings or Settings()
        redaction.install()  # WebSocket tickets travel in URLs, which uvicorn logs
        # Sync handlers queue on the dispatch lock in worker threads, and FastAPI needs another thread to
        # validate each answer: with too few threads, finished requests keep their connections (load tests).
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        network = RoadNetwork.load(settings=routing_settings or RoutingSettings.from_env())
        service_clock = clock or ServiceClock.for_zone(service.timezone)
        with startup_lock(service):  # workers starting together migrate and seed one after another
            upgrade_database(service.database_url)
            engine = create_db_engine(service.database_url, echo=service.database_echo,
                                      pool_size=service.database_pool_size)
            app.state.settings, app.state.network, app.state.engine = service, network, engine
            app.state.keys = KeyCache(service.auth_cache_s)
            app.state.auth_clock = utc_now  # accounts run on real time, whatever the service clock says
            app.state.rate_limits = RateLimits.create(service.rate_limits, redis_url=service.redis_url,
                                                      area=service.area)
            dispatcher = build_dispatcher(engine, network, service_clock, service)
            if service.demo_users_enabled:
                print_demo_users(engine)
        app.state.revocations = RevocationBoard(app.state.keys, redis_url=service.redis_url,
                                                area=service.area)
        app.state.revocations.start()
        mail_server = service.mail_server
        app.state.email_codes = None if mail_server is None else EmailCodeProvider(
            engine, mail_server, service.code_policy, lambda: app.state.auth_clock(), service.public_url)
        app.state.stops = StopDirectory.for_network(network)
        live = LiveDispatch(dispatcher, network, service_clock,
                            positions=PositionLog(service.position_limits), fares=FaresDue(engine))
        app.state.dispatch = live
        layer = LiveLayer.start(settings=service, live=live, engine=engine,
                                rebuild=lambda: build_dispatcher(engine, network, service_clock, service))
        app.state.live, app.state.fence = layer, layer.fence
        layer.serve_forwarded(app)
        reoptimizer = BackgroundReoptimizer(live, engine, policy=service.reoptimization,
                                            is_dispatcher=lambda: layer.is_leader,
                                            session_info={"fence": layer.fence} if layer.fence else None)
        app.state.reoptimizer = reoptimizer
        reoptimizer.start()
        horizon = HorizonTimer(live, engine, every_s=service.replan_every_s, poll_s=service.replan_poll_s,
                               is_dispatcher=lambda: layer.is_leader,
                               session_info={"fence": layer.fence} if layer.fence else None)
        app.state.horizon = horizon
        horizon.start()
        texts = NoticeTexts.of(service, service_clock.zone)
        stop_pushing = publish_notices(engine, NoticePublisher(
            texts, push=lambda message: layer.store.publish(NOTICE_KIND, message)))
        outbox = OutboxSender(engine, clock=service_clock, texts=texts,
                              mail_server=service.mail_server, policy=service.outbox_retry,
                              poll_s=service.outbox_poll_s, is_sender=lambda: layer.is_leader,
                              write_lock=live.lock)
        app.state.outbox = outbox
        outbox.start()
        recurring = RecurringBooker(live, engine, every_s=service.recurring_every_s,
                                    poll_s=service.replan_poll_s,
                                    caps=service.fair_use_caps, walk=walk_loader(app.state),
                                    is_dispatcher=lambda: layer.is_leader,
                                    session_info={"fence": layer.fence} if layer.fence else None)
        app.state.recurring = recurring
        if service.recurring_every_s > 0:
            recurring.start()
        retention = RetentionTimer(engine, every_s=service.retention_every_s, now=service_clock.now_datetime,
                                   cell_node=road_cells(network), is_dispatcher=lambda: layer.is_leader,
                                   lock=(lambda: live.lock) if engine.dialect.name == "sqlite"
                                   else contextlib.nullcontext)
        app.state.retention = retention
        retention.start()
        simulations = SimulationWorker(WorkerConfig(service.database_url, service.redis_url, service.area,
                                                    network.settings, stale_s=service.simulation_stale_s),
                                       engine)
        app.state.simulations = simulations
        simulations.resume()
        # What start-up built (road network, plan, modules) lives as long as the process: keep it out of the
        # garbage collector's full passes, which otherwise stop every request for a fifth of a second.
        gc.freeze()
        try:
            yield
        finally:
            await asyncio.to_thread(simulations.stop)
            await asyncio.to_thread(outbox.stop)
            stop_pushing()
            await asyncio.to_thread(recurring.stop)
            await asyncio.to_thread(horizon.stop)
            await asyncio.to_thread(retention.stop)
            await asyncio.to_thread(reoptimizer.stop)
            await asyncio.to_thread(basemap_routes.close_tiles, app.state)
            await layer.stop()
            await asyncio.to_thread(app.state.revocations.stop)
            # The road matrix's forked workers go with the app: uvicorn ends the process by raising the
            # signal it stopped on again, so no exit handler (atexit) runs after this.
            await asyncio.to_thread(matrix_workers.shutdown)
            engine.dispose()

    app = FastAPI(title="Rufbus", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Open on-demand rural bus dispatch. Map data " + ATTRIBUTION + ".")
    app.add_middleware(RetryLockedDatabase)  # innermost: SQLite's lock contention is retried in this worker
    install_error_handlers(app)  # its body size limit goes round the retry, which keeps the body
    app.add_middleware(ForwardToDispatcher)
    app.add_middleware(RefuseKnownOverLimit)  # before routing and forwarding: a known abuser costs nothing
    app.add_middleware(SecurityHeaders)  # outermost: every answer, also those of the middleware above
    app.include_router(auth_routes.router)
    app.include_router(auth_routes.operator_router)
    app.include_router(rider.router)
    app.include_router(rider_profile.router)
    app.include_router(driver.router)
    app.include_router(operator.router)
    app.include_router(calendar_routes.router)
    app.include_router(live_routes.router)
    app.include_router(web_routes.router)
    app.mount("/static", web_routes.static_files(), name="static")
    app.include_router(stops_routes.router)
    app.include_router(place_routes.router)
    app.include_router(basemap_routes.router)
    app.include_router(meeting_point_routes.operator_router)
    app.include_router(meeting_point_routes.rider_router)
    app.include_router(simulation_routes.router)
    app.include_router(twin_routes.router)
    app.include_router(feeds.router)
    app.include_router(desk_routes.router)
    app.include_router(report_routes.router)
    app.include_router(notice_routes.rider_router)
    app.include_router(notice_routes.operator_router)
    app.include_router(control_routes.router)
    app.include_router(privacy_routes.router)
    app.include_router(tariff_routes.router)

    @app.get("/health")
    def health() -> dict:
        """Liveness and the loaded region's figures."""
        network: RoadNetwork = app.state.network
        graph = network.graph
        return {"status": "ok", "region": str(network.settings.osm_file.name), "nodes": graph.node_count,
                "edges": graph.edge_count, "road_km": round(float(graph.meta["road_km"]), 1),
                "attribution": ATTRIBUTION, "live": live_status(app.state.live)}

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        """A minimal status page."""
        figures = health()
        return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Rufbus</title></head>"
                f"<body><h1>Rufbus</h1><p>Service running on {figures['region']}: {figures['nodes']:,} road "
                f"nodes, {figures['road_km']:,} km of road.</p>"
                f"<p><a href='/openapi.json'>API schema (OpenAPI)</a></p>"
                f"<footer>Map data {ATTRIBUTION}</footer></body></html>")

    return app
