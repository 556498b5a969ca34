"""Service settings: one pydantic-settings class read from the environment, with no work at import time.

``DATABASE_URL`` and ``REDIS_URL`` keep their conventional names; every other variable has the
``RUFBUS_`` prefix. Nothing is connected or created here: the SQLite directory is made when an engine
is built (:func:`api.db.session.create_db_engine`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.accounts.otp import CodePolicy
from api.accounts.sessions import TokenPolicy
from api.db.models import FairUseCapsBase
from api.mail import MailServer
from api.positions import PositionLimits
from api.rate_limits import Action, ActionLimits
from api.services.exceptions import ExceptionThresholds
from api.services.outbox import RetryPolicy
from dispatch.reoptimize import ReoptimizationPolicy

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_FILE = REPO_ROOT / ".cache" / "rufbus" / "rufbus.sqlite3"
DEFAULT_DATABASE_URL = f"sqlite:///{DEFAULT_SQLITE_FILE}"
POLICY = ReoptimizationPolicy()  # the re-optimization the simulator runs too, unless changed here
LIMITS = PositionLimits()
THRESHOLDS = ExceptionThresholds()


class Settings(BaseSettings):
    """Options of the HTTP service.

    Environment variables (all optional): ``DATABASE_URL`` (SQLAlchemy URL; default: a SQLite file
    under ``.cache/rufbus``), ``REDIS_URL`` (default: none, one process needs no Redis),
    ``RUFBUS_DATABASE_ECHO`` (log SQL), ``RUFBUS_DATABASE_POOL_SIZE`` (PostgreSQL connections kept open),
    ``RUFBUS_TIMEZONE`` (the service's local time zone, default Europe/Vaduz; see :mod:`api.clock`),
    ``RUFBUS_AREA``, ``RUFBUS_LEASE_S``, ``RUFBUS_FORWARD_TIMEOUT_S`` (the live layer, see :mod:`api.live`),
    ``RUFBUS_REOPTIMIZE_EVERY_S``, ``RUFBUS_REOPTIMIZE_ITERATIONS``, ``RUFBUS_REOPTIMIZE_BUDGET_S`` (the
    :class:`~dispatch.reoptimize.ReoptimizationPolicy` of :mod:`api.services.reoptimizer`; by default the one
    the simulator runs),
    ``RUFBUS_REPLAN_EVERY_S``, ``RUFBUS_REPLAN_POLL_S`` (the rolling horizon of
    :mod:`api.services.horizon`: service seconds between two rolls, at most an hour, and wall seconds
    between two looks at the service clock),
    ``RUFBUS_AUTH_CACHE_S`` (seconds an authenticated key is trusted without a database read),
    ``RUFBUS_POSITION_SKEW_S``, ``RUFBUS_POSITION_MAX_AGE_S`` (which bus positions are used: see
    :mod:`api.positions`),
    ``RUFBUS_EXCEPTION_LATE_S``, ``RUFBUS_EXCEPTION_AT_RISK_S``, ``RUFBUS_EXCEPTION_SILENT_S``,
    ``RUFBUS_EXCEPTION_CRITICAL_S``, ``RUFBUS_EXCEPTION_LOOKBACK_S`` (the operators' exceptions view: see
    :mod:`api.services.exceptions`),
    ``RUFBUS_PUBLIC_URL``, ``RUFBUS_AGENCY_NAME``, ``RUFBUS_AGENCY_URL``, ``RUFBUS_AGENCY_PHONE``,
    ``RUFBUS_AGENCY_LANG``, ``RUFBUS_ROUTE_NAME``, ``RUFBUS_GTFS_DAYS`` (the published GTFS feed, see
    :mod:`api.services.feeds`),
    ``RUFBUS_SIMULATION_MAX_ACTIVE``, ``RUFBUS_SIMULATION_STALE_S`` (operators' simulation jobs, see
    :mod:`api.services.simulation_worker`),
    ``RUFBUS_QUOTE_RATE_PER_ACCOUNT``, ``RUFBUS_QUOTE_RATE_PER_ADDRESS``, ``RUFBUS_BOOKING_RATE_PER_ACCOUNT``,
    ``RUFBUS_BOOKING_RATE_PER_ADDRESS`` (riders' rate limits, e.g. ``2/second;30/minute``, empty for none:
    see :mod:`api.rate_limits`),
    ``RUFBUS_FAIR_USE_MAX_OPEN_BOOKINGS``, ``RUFBUS_FAIR_USE_MAX_SEATS_PER_SLOT``,
    ``RUFBUS_FAIR_USE_SLOT_MINUTES`` (the caps on what one rider may hold until operators set their own: see
    :mod:`api.services.fair_use`),
    ``RUFBUS_SMTP_HOST``, ``RUFBUS_SMTP_PORT``, ``RUFBUS_SMTP_USER``, ``RUFBUS_SMTP_PASSWORD``,
    ``RUFBUS_SMTP_STARTTLS``, ``RUFBUS_MAIL_FROM``, ``RUFBUS_SMTP_TIMEOUT_S`` (the mail server riders' mail
    goes through: see :mod:`api.mail`; no host: no mail is sent),
    ``RUFBUS_OUTBOX_POLL_S``, ``RUFBUS_OUTBOX_RETRY_BASE_S``, ``RUFBUS_OUTBOX_RETRY_CAP_S``,
    ``RUFBUS_OUTBOX_MAX_ATTEMPTS`` (riders' notifications: how often the sender looks for due messages
    besides being woken by each change, and the backoff of failed deliveries; see
    :mod:`api.services.outbox`),
    ``RUFBUS_SIGN_IN_CODE_TTL_S``, ``RUFBUS_SIGN_IN_CODE_ATTEMPTS``, ``RUFBUS_ACCESS_TOKEN_TTL_S``,
    ``RUFBUS_SESSION_TTL_S``, ``RUFBUS_WS_TICKET_TTL_S``, ``RUFBUS_STREAM_RECHECK_S``,
    ``RUFBUS_SIGN_IN_CODE_RATE_PER_EMAIL``, ``RUFBUS_SIGN_IN_CODE_RATE_PER_ADDRESS``,
    ``RUFBUS_SIGN_IN_RATE_PER_EMAIL``, ``RUFBUS_SIGN_IN_RATE_PER_ADDRESS`` (accounts: see
    :mod:`api.accounts`),
    ``RUFBUS_DEMO_USERS`` (at start, with an empty users table, create one demo user per role and print
    their API keys to the console once; off unless asked for, also by ``rufbus serve --demo-users``).
    """

    model_config = SettingsConfigDict(env_prefix="RUFBUS_", extra="ignore", frozen=True)

    database_url: str = Field(default=DEFAULT_DATABASE_URL,
                              validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "redis_url"))
    database_echo: bool = False
    database_pool_size: int = Field(default=5, ge=1)
    timezone: str = "Europe/Vaduz"
    demo_buses: int = Field(default=6, ge=1)  # RUFBUS_DEMO_BUSES: size of the demo fleet (api.fleet)
    demo_users: bool = False  # RUFBUS_DEMO_USERS: only when asked for
    # The live layer (api.live), used only with REDIS_URL: the service area's name (keys and channels),
    # how long a dispatcher's lease lasts unless renewed, and how long a worker waits for the
    # dispatcher's answer to a request it forwarded.
    area: str = Field(default="default", min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.-]+$")
    lease_s: float = Field(default=5.0, gt=0.5, le=120)
    forward_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Background re-optimization of the live plan (api.services.reoptimizer), as the simulator runs it
    # (dispatch.reoptimize.ReoptimizationPolicy): seconds from the start of one round to the start of the
    # next (0: never), ruin-and-recreate iterations per round, and a round's wall-time cap.
    reoptimize_every_s: float = Field(default=POLICY.every_s, ge=0)
    reoptimize_iterations: int = Field(default=POLICY.iterations, ge=1, le=1_000_000)
    reoptimize_budget_s: float = Field(default=POLICY.budget_s, gt=0, le=60)
    # The rolling horizon (api.services.horizon): every shift within the booking horizon is planned anew
    # every `replan_every_s` seconds of service time (at most hourly); the timer looks at the service clock
    # every `replan_poll_s` wall-clock seconds.
    replan_every_s: float = Field(default=3600, gt=0, le=3600)
    replan_poll_s: float = Field(default=30, gt=0, le=3600)
    # Riders' recurring trips (api.services.recurring): the days that came into the booking horizon are
    # booked every `recurring_every_s` seconds of service time (looked at every `replan_poll_s`); 0: never.
    recurring_every_s: float = Field(default=900, ge=0, le=86_400)
    # The retention job (api.services.retention) runs every `retention_every_s` wall seconds on the worker
    # that dispatches (0: never; `rufbus retention run` runs it by hand).
    retention_every_s: float = Field(default=3600, ge=0, le=7 * 24 * 3600)
    # How long an authenticated API key is trusted without reading the database again (api.auth.KeyCache):
    # a user deactivated meanwhile keeps access at most this long; 0 reads the database on every request.
    auth_cache_s: float = Field(default=5.0, ge=0, le=300)
    # Drivers' positions (api.positions): how far in the future a tablet may stamp one (further: 422), and
    # how old one may be and still move the bus in the plan (older ones are accepted and ignored).
    position_skew_s: int = Field(default=LIMITS.skew_s, ge=0, le=600)
    position_max_age_s: int = Field(default=LIMITS.max_age_s, ge=1, le=3600)
    # The operators' exceptions (api.services.exceptions): a bus late from this many seconds behind a
    # promise, a promise at risk this close to its end, a bus silent after this long without a position,
    # critical from this long; what the system did is looked up this far back in the event log.
    exception_late_s: int = Field(default=THRESHOLDS.late_s, ge=0, le=3600)
    exception_at_risk_s: int = Field(default=THRESHOLDS.at_risk_s, ge=0, le=3600)
    exception_silent_s: int = Field(default=THRESHOLDS.silent_s, ge=1, le=86400)
    exception_critical_s: int = Field(default=THRESHOLDS.critical_s, ge=1, le=86400)
    exception_lookback_s: int = Field(default=THRESHOLDS.lookback_s, ge=0, le=7 * 86400)
    # The published GTFS feed (api.services.feeds): where riders reach this service (the feed's booking
    # link is its /app page), the agency riders deal with and its booking phone, the language and the
    # route's name riders see, and how many days from today the feed covers. Deployment settings like the
    # time zone: the operator sets them where the service is deployed, the same for every worker.
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(/\S*)?$")
    agency_name: str = Field(default="Rufbus", min_length=1, max_length=200)
    agency_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")  # default: public_url
    agency_phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=r"^[0-9+() ./-]+$")
    agency_lang: str = Field(default="de", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    route_name: str = Field(default="Rufbus", min_length=1, max_length=200)
    gtfs_days: int = Field(default=365, ge=1, le=5 * 366)
    # Operators' simulation jobs (api.services.simulations, run by api.services.simulation_worker): how
    # many one operator may have queued or running at once, and after how many seconds without a
    # heartbeat a running job counts as orphaned (its worker died) and is failed.
    simulation_max_active: int = Field(default=2, ge=1, le=100)
    simulation_stale_s: float = Field(default=60.0, ge=2, le=3600)

    # Riders' rate limits (api.rate_limits), moving windows in the `limits` notation ("2/second;30/minute",
    # empty: none): a person asks a few quotes a minute and books fewer; an address may be shared (a
    # household, a village hall) and gets more. Operators are not limited (they book for callers).
    quote_rate_per_account: str = "2/second;30/minute"
    quote_rate_per_address: str = "5/second;120/minute"
    booking_rate_per_account: str = "2/second;20/minute"
    booking_rate_per_address: str = "5/second;60/minute"

    # The fair-use caps in force until operators set their own (api.services.fair_use): open bookings per
    # rider, and seats per rider within `fair_use_slot_minutes` of a pickup.
    fair_use_max_open_bookings: int = Field(default=10, ge=1, le=1000)
    fair_use_max_seats_per_slot: int = Field(default=8, ge=1, le=1000)
    fair_use_slot_minutes: int = Field(default=30, ge=5, le=24 * 60)

    # The mail server (api.mail): sign-in codes and riders' notifications go out through it. No host: the
    # service sends no mail (sign-in by code is then unavailable).
    smtp_host: str | None = Field(default=None, min_length=1, max_length=253)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
    mail_from: str = Field(default="Rufbus <rufbus@localhost>", min_length=3, max_length=320)

    # Riders' notifications (api.services.outbox): the sender is woken by every change that writes messages
    # and looks anyway every `outbox_poll_s` seconds (retries, messages of other processes); a failed
    # delivery is tried again after `outbox_retry_base_s` doubled per attempt (with jitter), at most
    # `outbox_retry_cap_s`, and is given up (failed, shown to operators) after `outbox_max_attempts`.
    outbox_poll_s: float = Field(default=5.0, gt=0, le=300)
    outbox_retry_base_s: float = Field(default=30.0, gt=0, le=3600)
    outbox_retry_cap_s: float = Field(default=3600.0, gt=0, le=86400)
    outbox_max_attempts: int = Field(default=10, ge=1, le=100)

    @property
    def outbox_retry(self) -> RetryPolicy:
        """The backoff of failed notification deliveries."""
        return RetryPolicy(base_s=self.outbox_retry_base_s, cap_s=self.outbox_retry_cap_s,
                           max_attempts=self.outbox_max_attempts)

    # Accounts (api.accounts): a sign-in code lives 10 minutes and takes 5 guesses; an access token lives
    # 15 minutes, a session 30 days after its last renewal, a WebSocket ticket 30 seconds; open streams
    # re-check their credential every `stream_recheck_s` (the bound when a revocation message is lost).
    # Codes mailed per address (its digest) and per client address, and codes tried, are rate-limited.
    sign_in_code_ttl_s: int = Field(default=600, ge=60, le=3600)
    sign_in_code_attempts: int = Field(default=5, ge=1, le=20)
    access_token_ttl_s: int = Field(default=900, ge=30, le=86400)
    session_ttl_s: int = Field(default=30 * 86400, ge=300, le=366 * 86400)
    ws_ticket_ttl_s: int = Field(default=30, ge=5, le=300)
    stream_recheck_s: float = Field(default=30.0, gt=0, le=3600)
    sign_in_code_rate_per_email: str = "3/minute;10/hour"
    sign_in_code_rate_per_address: str = "10/minute;60/hour"
    sign_in_rate_per_email: str = "10/minute;30/hour"
    sign_in_rate_per_address: str = "30/minute;300/hour"

    @property
    def mail_server(self) -> MailServer | None:
        """Where mail goes, or None when no SMTP host is set."""
        if self.smtp_host is None:
            return None
        return MailServer(host=self.smtp_host, port=self.smtp_port, user=self.smtp_user,
                          password=self.smtp_password, starttls=self.smtp_starttls,
                          timeout_s=self.smtp_timeout_s, sender=self.mail_from)

    @property
    def fair_use_caps(self) -> FairUseCapsBase:
        """The fair-use caps in force while operators have set none."""
        return FairUseCapsBase(max_open_bookings=self.fair_use_max_open_bookings,
                               max_seats_per_slot=self.fair_use_max_seats_per_slot,
                               slot_minutes=self.fair_use_slot_minutes)

    @property
    def rate_limits(self) -> dict[Action, ActionLimits]:
        """The riders' rate limits per action."""
        return {Action.QUOTE: ActionLimits(self.quote_rate_per_account, self.quote_rate_per_address),
                Action.BOOKING: ActionLimits(self.booking_rate_per_account, self.booking_rate_per_address),
                Action.SIGN_IN_CODE: ActionLimits(self.sign_in_code_rate_per_email,
                                                  self.sign_in_code_rate_per_address),
                Action.SIGN_IN: ActionLimits(self.sign_in_rate_per_email, self.sign_in_rate_per_address)}

    @property
    def position_limits(self) -> PositionLimits:
        """The limits drivers' positions are judged by."""
        return PositionLimits(self.position_skew_s, self.position_max_age_s)

    @property
    def exception_thresholds(self) -> ExceptionThresholds:
        """When the operators' exceptions view counts something as an exception."""
        return ExceptionThresholds(late_s=self.exception_late_s, at_risk_s=self.exception_at_risk_s,
                                   silent_s=self.exception_silent_s, critical_s=self.exception_critical_s,
                                   lookback_s=self.exception_lookback_s)

    @property
    def reoptimization(self) -> ReoptimizationPolicy:
        """The background re-optimization's policy (the simulator's default unless set otherwise)."""
        return ReoptimizationPolicy(every_s=self.reoptimize_every_s, iterations=self.reoptimize_iterations,
                                    budget_s=self.reoptimize_budget_s)

    @property
    def demo_users_enabled(self) -> bool:
        """Whether demo users are created at start (only when asked for: ``RUFBUS_DEMO_USERS``)."""
        return self.demo_users

    @property
    def code_policy(self) -> CodePolicy:
        """How long a sign-in code lives and how many guesses it takes."""
        return CodePolicy(ttl_s=self.sign_in_code_ttl_s, max_attempts=self.sign_in_code_attempts)

    @property
    def token_policy(self) -> TokenPolicy:
        """How long access tokens, sessions and WebSocket tickets live."""
        return TokenPolicy(access_ttl_s=self.access_token_ttl_s, session_ttl_s=self.session_ttl_s,
                           ticket_ttl_s=self.ws_ticket_ttl_s)

    @field_validator("quote_rate_per_account", "quote_rate_per_address", "booking_rate_per_account",
                     "booking_rate_per_address", "sign_in_code_rate_per_email",
                     "sign_in_code_rate_per_address", "sign_in_rate_per_email", "sign_in_rate_per_address")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        ActionLimits(value, "").parsed()
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from api.clock import load_zone

        load_zone(value)
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once; a FastAPI dependency tests can override."""
    return Settings()
