"""create_app(settings) -> Litestar: routes, templates, sessions, CSRF, error pages."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import anyio

from litestar import Litestar, Request
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from contest import i18n
from contest.db import Database
from contest import metrics as operator_metrics
from contest.settings import PROJECT_ROOT, Settings
from contest.web import context as template_context
from contest.web.auth import AuthController
from contest.web.sessions import SessionConfig, SessionCSRFMiddleware
from contest.web.staff_log import staff_action_log
from contest.contests.attempts import close_all_expired
from contest.contests.draw import PoolCache
from contest.exports import claims as export_claims, jobs as export_jobs
from contest.exports.worker import ExportWorker
from contest.results.ranking import wire_key_corrections
from contest.web import BODY_BYTES, api, contestant, current_user
from contest.web.announcements import AnnouncementsController
from contest.web.appeals import ContestantAppealsController
from contest.web.live import LiveController
from contest.web.metrics import serve_metrics
from contest.web.page_cache import PageCache
from contest.web.banks import BanksController, QuestionsController
from contest.web.errors import EXCEPTION_HANDLERS
from contest.web.gate import UploadGate
from contest.web.exports import ExportJobsController, ExportsController
from contest.web.pages import StaffController, UsersController, favicon, health, home, set_language
from contest.web.results import PublicResultsController
from contest.web.staff_results import ResultsController, results_contests
from contest.web.contestant_account import ContestantAccountController
from contest.web.staff_contestants import ContestantsController
from contest.web.staff_contests import ContestsController
from contest.web.contestant_entries import EntriesController
from contest.web.staff_entries import EntryRoundsController, JudgingController
from contest.web.staff_materials import MaterialsController
from contest.web.staff_rounds import RoundsController
from contest.web.staff_units import UnitsController
from contest.web.stats import PublicStatsController, StaffStatsController

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = PROJECT_ROOT / "templates"
SWEEP_SECONDS = 60  # how often each app process closes attempts left open past their deadline

# Only our own files: no CDN, no inline script. htmx's own indicator style is switched off
# (see base.html) so that no inline style is needed either.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"  # production only: development runs over plain http


def _derive_key(secret: str, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()


async def _before_request(request: Request) -> None:
    template_context.bind(request)
    await current_user(request)


def security_headers(production: bool):
    """A before_send hook adding the security headers to every response the app sends.

    before_send wraps the whole application, so unlike an after_request hook it also reaches
    error pages, 404s for unknown paths, 405s and static files.
    """
    fixed = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
             (b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"same-origin"),
             (b"x-frame-options", b"DENY")]
    if production:
        fixed.append((b"strict-transport-security", HSTS.encode()))

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or ())
            present = {name.lower() for name, _ in headers}
            message["headers"] = headers + [h for h in fixed if h[0] not in present]  # type: ignore[typeddict-item]

    return add_headers


def create_app(settings: Settings | None = None, database: Database | None = None,
               clock: Callable[[], datetime] | None = None) -> Litestar:
    """Build the web application for `settings` (default: from the environment).

    `clock` returns the current time (aware); tests pass their own to move time without sleeping.
    """
    settings = settings or Settings.from_env()
    wire_key_corrections()
    db = database or Database(settings.database_url)
    app_clock = clock or (lambda: datetime.now(timezone.utc))
    logging.basicConfig(level=logging.INFO if settings.debug else logging.WARNING)

    # Counted only when someone may read it; /metrics skips the session and the CSRF cookie.
    metrics = (operator_metrics.Metrics(operator_metrics.folder(settings.var_dir)) if settings.metrics_token
               else None)
    session_config = SessionConfig(
        exclude=["^/metrics$"],
        secret=_derive_key(settings.secret_key, "session"),
        key="contest_session",
        max_age=settings.session_max_age,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    csrf_config = CSRFConfig(
        secret=_derive_key(settings.secret_key, "csrf").hex(),
        cookie_name="contest_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=["/api/", "^/metrics$"],
    )
    def configure_templates(engine: JinjaTemplateEngine) -> None:
        template_context.register(engine.engine)
        # Outside debug mode, templates are not re-checked on disk for every page.
        engine.engine.auto_reload = settings.debug

    templates = TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure_templates)

    def provide_db() -> Database:
        return db

    sweeper: list[asyncio.Task] = []
    unwatch: list[Callable[[], None]] = []
    # Claims queued export jobs from the database, as every other process does (contest.exports.worker).
    export_worker = (ExportWorker(db, directory=settings.exports_dir, tz=settings.timezone, clock=app_clock,
                                  slots=settings.export_workers) if settings.export_workers else None)

    def sweep() -> None:
        close_all_expired(db, now=app_clock())
        export_claims.give_up(db, now=app_clock())
        export_jobs.remove_old_files(db, settings.exports_dir, now=app_clock(),
                                     keep=timedelta(hours=settings.export_keep_hours))

    async def sweep_expired() -> None:
        """Close attempts whose deadline passed while nobody looked (closed phones, lost connections),
        fail the export jobs no process will finish, and delete export files kept long enough."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await anyio.to_thread.run_sync(sweep)
            except Exception:  # noqa: BLE001 - a failed sweep is retried next minute; never kill the app
                logging.getLogger(__name__).exception("the periodic sweep failed")

    async def start_sweeper(app: Litestar) -> None:
        sweeper.append(asyncio.create_task(sweep_expired()))
        if export_worker is not None:
            export_worker.start()
        if metrics is not None:
            sweeper.append(asyncio.create_task(metrics.flush_every_second()))
            unwatch.append(metrics.watch(db.engine))

    async def dispose(app: Litestar) -> None:
        if export_worker is not None:
            await export_worker.stop()
        for task in sweeper:
            task.cancel()
        for stop in unwatch:
            stop()
        if metrics is not None:
            metrics.flush()
        db.dispose()

    app = Litestar(
        route_handlers=[
            home,
            favicon,
            set_language,
            health,
            serve_metrics,
            AuthController,
            StaffController,
            UsersController,
            BanksController,
            QuestionsController,
            ContestsController,
            MaterialsController,
            EntryRoundsController,
            JudgingController,
            EntriesController,
            UnitsController,
            RoundsController,
            AnnouncementsController,
            LiveController,
            contestant.ContestantController,
            ContestantAccountController,
            ContestantAppealsController,
            ContestantsController,
            ResultsController,
            PublicResultsController,
            results_contests,
            StaffStatsController,
            PublicStatsController,
            ExportsController,
            ExportJobsController,
            api.create_router(token_max_age=settings.api_token_max_age),
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                cache_control=CacheControlHeader(max_age=86400, public=True),
            ),
        ],
        dependencies={"db": Provide(provide_db, sync_to_thread=False)},
        state=State({"settings": settings, "db": db, "pools": PoolCache(), "clock": app_clock,
                     "contest_ids": {}, "metrics": metrics, "page_cache": PageCache(),
                     "export_worker": export_worker}),
        # CSRF runs after the session is loaded: tokens are bound to it (SessionCSRFMiddleware).
        middleware=[DefineMiddleware(UploadGate, limit=settings.uploads_at_once), session_config.middleware,
                    DefineMiddleware(SessionCSRFMiddleware, config=csrf_config)],
        # A click's JSON answer is a few dozen bytes: its handler opts out (skip_compression).
        compression_config=CompressionConfig(backend="gzip", minimum_size=500, gzip_compress_level=6,
                                             exclude_opt_key="skip_compression"),
        template_config=templates,
        exception_handlers={**EXCEPTION_HANDLERS, **contestant.EXCEPTION_HANDLERS},
        before_request=_before_request,
        before_send=[security_headers(settings.production), staff_action_log(db, app_clock)],
        # Small by default; the upload routes and long staff forms raise their own limit.
        request_max_body_size=BODY_BYTES,
        on_startup=[start_sweeper],
        # A domain message (i18n.Message) is text in JSON; handlers translate it before it goes out.
        type_encoders={i18n.Message: str},
        on_shutdown=[dispose],
        debug=settings.debug,
        # The published schema documents the JSON API (/api/v1) only; its router opts back in.
        openapi_config=api.openapi_config(),
        include_in_schema=False,
    )
    if metrics is not None:
        # Around the whole application, as Litestar's own OpenTelemetry plugin wraps it: routes' middleware
        # would miss 404s for unknown addresses and see refusals raised by the CSRF check as exceptions.
        app.asgi_handler = metrics.instrument(app.asgi_handler)
    return app


def _freeze_what_lives_for_the_process(app: Litestar) -> None:
    """Move every object alive once the app has started out of the cyclic collector's reach (gc.freeze).
    Modules, the ORM's tables, the routes and the templates' environment live as long as the worker; a full
    collection scanned all of them (about 190,000 objects, 0.2 s of a worker's time on these 2-core
    machines) and held every request of the worker meanwhile. Afterwards it scans only what requests made."""
    gc.collect()
    gc.freeze()


def create_served_app() -> Litestar:
    """The app as `contest serve` runs it in each worker process: an SQLite file is checkpointed by a thread
    of the process, not by the commits on its event loop (db.Checkpointer), and what the started app holds is
    frozen (not in tests, which build many apps in one process and would keep each one's garbage frozen)."""
    settings = Settings.from_env()
    app = create_app(settings, database=Database(settings.database_url, background_checkpoints=True))
    app.on_startup.append(_freeze_what_lives_for_the_process)
    return app
