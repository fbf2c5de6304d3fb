"""The dashboard: a FastAPI app over :mod:`reawaken.api` (design principle 11: a thin shell, no numerics).

Everything the page shows comes from the JSON API below, which scripts can drive too (``/openapi.json``).
Every asset (scripts, styles) is served by the app itself: the page makes no request to any other host.
FastAPI's own Swagger UI loads its scripts from a CDN, so it is switched off; ``/docs`` is a small local
page that lists the operations of ``/openapi.json``.

Security: bound to loopback, the app answers only requests whose ``Host`` names the loopback (a web page
elsewhere cannot reach it through DNS rebinding). Bound to any other address it needs a token (printed by
``reawaken serve``): the page's URL carries it once (``/?token=...``), which sets a same-site cookie;
scripts send ``Authorization: Bearer TOKEN``.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ReawakenError
from . import services
from .jobs import TERMINAL, JobError, JobStore
from .schemas import CohortJobIn, RiskIn, ScenarioIn, StochasticIn

STATIC = Path(__file__).parent / "static"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
COOKIE = "reawaken_token"
# Downloads of a finished cohort job: these names and no others (each is made from the API's frames).
DOWNLOADS = {"summary.json": "application/json", "manifest.json": "application/json", "arms.csv": "text/csv",
             "events.csv": "text/csv", "persons.csv": "text/csv", "events.parquet": "application/octet-stream",
             "persons.parquet": "application/octet-stream"}
_SAFE_FILE = re.compile(r"^[a-z]+\.(json|csv|parquet)$")
_SAFE_DIR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$")


@dataclass
class Settings:
    """What ``reawaken serve`` is started with (all bounded: a page cannot ask for more than this)."""

    host: str = "127.0.0.1"
    token: str | None = None
    data_dir: Path | None = None  # cohort jobs' folders (default: a new temporary folder)
    registry_dir: Path | None = None  # folders written by ``reawaken analyze --out`` (one per study)
    max_cohort_n: int = 20_000
    max_risk_n: int = 20_000
    max_jobs: int = 20
    workers: int = 1
    sim_processes: int = 0  # scenario requests in this many worker processes (0: in the server's own threads)
    max_body_bytes: int = 256 * 1024
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)  # further Host names to accept (tests: testserver)

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_NAMES or _is_loopback_ip(self.host)

    def limits(self) -> dict[str, Any]:
        return {"max_cohort_n": self.max_cohort_n, "max_risk_n": self.max_risk_n, "max_jobs": self.max_jobs,
                "workers": self.workers}


def _hostname(header: str) -> str:
    """The name part of a Host header: ``127.0.0.1:8765`` -> ``127.0.0.1``, ``[::1]:8765`` -> ``[::1]``."""
    if header.startswith("["):
        return header.split("]")[0] + "]"
    return header.rsplit(":", 1)[0] if ":" in header else header


def _is_loopback_ip(host: str) -> bool:
    """A literal loopback address (127.x.y.z, ::1); a name such as 127.0.0.1.evil.example is not one."""
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        if err.get("type") == "json_invalid":
            parts.append(f"the request body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})")
        elif err.get("type") == "missing" and where == "body":
            parts.append("the request needs a JSON body")
        else:
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    if not settings.loopback and not settings.token:
        raise ValueError("binding beyond loopback needs a token")
    data_dir = settings.data_dir or Path(tempfile.mkdtemp(prefix="reawaken-dashboard-"))
    jobs = JobStore(data_dir / "jobs", max_jobs=settings.max_jobs, max_workers=settings.workers)
    sims = _process_pool(settings.sim_processes)
    if settings.data_dir is not None:  # a folder that outlives the server: its jobs come back
        jobs.recover(lambda request: _runner_of(request, settings), services.open_cohort)
    app = FastAPI(title="reawaken dashboard API", version="1",
                  description="Research use only. The JSON API behind the reawaken dashboard; every call is a "
                              "thin shell over reawaken.api.",
                  docs_url=None, redoc_url=None, lifespan=_lifespan(jobs, sims))  # Swagger UI and ReDoc load from a CDN: see /docs instead
    app.state.settings, app.state.jobs = settings, jobs

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        host = _hostname(request.headers.get("host") or "")
        if settings.token is None:
            allowed = LOOPBACK_NAMES | set(settings.extra_hosts)
            if host not in allowed and not _is_loopback_ip(host):
                return _problem(403, f"this server answers only on the loopback (Host {host[:60]!r} refused)")
        else:
            given = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip() \
                or request.cookies.get(COOKIE) or request.query_params.get("token") or ""
            if not given:
                return _problem(401, "this server needs its token: open the URL `reawaken serve` printed "
                                     "(.../?token=...) or send the header Authorization: Bearer TOKEN")
            if not secrets.compare_digest(given.encode(), settings.token.encode()):
                return _problem(403, "wrong token; use the one `reawaken serve` printed")
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
            return _problem(413, f"request body larger than {settings.max_body_bytes:,} bytes")
        response = await call_next(request)
        if settings.token and request.query_params.get("token") == settings.token:
            response.set_cookie(COOKIE, settings.token, httponly=True, samesite="strict")
        # The page's own policy: nothing but this origin, ever (a stray CDN link would be blocked and seen).
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                    "style-src 'self'; script-src 'self'; connect-src 'self'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _problem(422, _validation_message(exc))

    @app.exception_handler(ReawakenError)
    async def _reawaken(request: Request, exc: ReawakenError) -> JSONResponse:
        return _problem(400, " ".join(str(exc).split())[:600])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404 and exc.detail == "Not Found":  # no route: say which path, and where the list is
            return _problem(404, f"no page or API route {request.url.path[:80]!r}; the API is listed at /docs")
        return _problem(exc.status_code, str(exc.detail))

    @app.exception_handler(JobError)
    async def _job(request: Request, exc: JobError) -> JSONResponse:
        return _problem(exc.status, str(exc))

    # --- page --------------------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # --- mechanism ---------------------------------------------------------------------------------------
    @app.get("/api/health", tags=["meta"])
    def health() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/api/options", tags=["meta"], summary="hosts, viruses, interventions, arms, targets and limits")
    def get_options() -> dict[str, Any]:
        return services.options(settings.limits())

    async def _offload(fn: Any, req: Any) -> dict[str, Any]:
        # The solver is Python and holds the GIL: in worker processes, scenarios use every core and leave the
        # server's own threads (the page, progress streams, cohort jobs) responsive.
        if sims is None:
            return await asyncio.get_running_loop().run_in_executor(None, fn, req)
        return await asyncio.get_running_loop().run_in_executor(sims, services.run_request, fn.__name__,
                                                                 type(req).__name__, req.model_dump())

    @app.post("/api/simulate", tags=["mechanism"], summary="one deterministic scenario (api.simulate)")
    async def simulate(req: ScenarioIn) -> dict[str, Any]:
        return await _offload(services.simulate, req)

    @app.post("/api/stochastic", tags=["mechanism"], summary="stochastic lungs (api.simulate_stochastic)")
    async def stochastic(req: StochasticIn) -> dict[str, Any]:
        return await _offload(services.simulate_stochastic, req)

    # --- cohort jobs -------------------------------------------------------------------------------------
    @app.get("/api/cohort/schema", tags=["cohort"], summary="every cohort config key with bounds and units")
    def cohort_schema() -> list[dict[str, Any]]:
        return services.cohort_schema()

    @app.post("/api/jobs", tags=["cohort"], status_code=202, summary="start a cohort job (api.run_cohort)")
    def start_job(req: CohortJobIn) -> dict[str, Any]:
        cfg = services.cohort_config(req, settings.max_cohort_n)  # refused here, before it is queued
        return jobs.submit(req.model_dump(), services.cohort_runner(req, cfg)).public()

    @app.get("/api/jobs", tags=["cohort"])
    def list_jobs() -> list[dict[str, Any]]:
        return jobs.list()

    @app.get("/api/jobs/{job_id}", tags=["cohort"])
    def get_job(job_id: str) -> dict[str, Any]:
        return jobs.get(job_id).public()

    @app.post("/api/jobs/{job_id}/cancel", tags=["cohort"])
    def cancel_job(job_id: str) -> dict[str, Any]:
        return jobs.cancel(job_id).public()

    @app.post("/api/jobs/{job_id}/resume", tags=["cohort"],
              summary="run a cancelled or failed job again in its folder (finished chunks are kept)")
    def resume_job(job_id: str) -> dict[str, Any]:
        return jobs.resume(job_id).public()

    @app.get("/api/jobs/{job_id}/events", tags=["cohort"], summary="progress as server-sent events")
    async def job_events(job_id: str, request: Request) -> StreamingResponse:
        job = jobs.get(job_id)

        async def stream() -> Any:
            seen, quiet = -1, 0.0
            for _ in range(36_000):  # at most ~2 hours of 0.2 s ticks: a stream never outlives its use
                if await request.is_disconnected():
                    return
                if job.version != seen:
                    seen = job.version
                    yield f"data: {json.dumps(job.public())}\n\n"
                    quiet = 0.0
                    if job.state in TERMINAL:
                        return
                elif quiet > 15:
                    yield ": keep-alive\n\n"
                    quiet = 0.0
                await asyncio.sleep(0.2)
                quiet += 0.2

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    def _finished(job_id: str) -> Any:
        job = jobs.get(job_id)
        if job.state != "finished" or job.result is None:
            raise JobError(f"job {job_id} is {job.state}; results exist only for a finished job", 409)
        return job.result

    @app.get("/api/jobs/{job_id}/results", tags=["cohort"],
             summary="arms, relapses averted (paired SE) and cumulative lung-metastasis curves with bands")
    def job_results(job_id: str) -> dict[str, Any]:
        return {**services.cohort_results(_finished(job_id)), "downloads": list(DOWNLOADS)}

    @app.get("/api/jobs/{job_id}/files/{name}", tags=["cohort"], summary="download one table of a finished job")
    def job_file(job_id: str, name: str) -> Response:
        if not _SAFE_FILE.match(name) or name not in DOWNLOADS:
            return _problem(400 if not _SAFE_FILE.match(name) else 404,
                            f"no download {name[:60]!r}; choose one of: {', '.join(DOWNLOADS)}")
        result = _finished(job_id)
        body = _download(result, name)
        return Response(body, media_type=DOWNLOADS[name],
                        headers={"Content-Disposition": f'attachment; filename="reawaken-{job_id}-{name}"'})

    # --- registry results --------------------------------------------------------------------------------
    @app.get("/api/registry", tags=["registry"], summary="analyze output folders under --registry-dir")
    def registry_list() -> dict[str, Any]:
        return {"root": str(settings.registry_dir) if settings.registry_dir else None,
                "folders": services.registry_folders(settings.registry_dir)}

    @app.get("/api/registry/{name}", tags=["registry"], summary="results.json and km.json of one folder")
    def registry_get(name: str) -> dict[str, Any]:
        root = settings.registry_dir
        if root is None:
            raise JobError("this server was started without --registry-dir", 404)
        if not _SAFE_DIR.match(name) or ".." in name:
            raise JobError(f"{name[:60]!r} is not a folder name (letters, digits, '.', '_', '-')", 400)
        folder = (root / name).resolve()
        if not folder.is_relative_to(root.resolve()) or not (folder / "results.json").is_file():
            raise JobError(f"no analyze output {name!r} in the registry folder; GET /api/registry lists them", 404)
        return services.registry_result(folder)

    # --- survivor risk -----------------------------------------------------------------------------------
    @app.post("/api/risk", tags=["risk"], summary="research use only: a profile-matched virtual cohort")
    def risk(req: RiskIn) -> dict[str, Any]:
        return services.risk(req, settings.max_risk_n)

    return app


def _runner_of(request: dict[str, Any], settings: Settings) -> Any:
    req = CohortJobIn.model_validate(request)
    return services.cohort_runner(req, services.cohort_config(req, settings.max_cohort_n))


def _process_pool(n: int) -> Any:
    """Worker processes for scenario requests, started with 'spawn' (set here, never at import: forking a server
    with running threads could copy a held lock)."""
    if n <= 0:
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"))


def _lifespan(jobs: JobStore, sims: Any) -> Any:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def span(app: FastAPI) -> Any:
        yield
        jobs.shutdown()  # running jobs stop at their next chunk; their folders stay resumable
        if sims is not None:
            sims.shutdown(wait=False, cancel_futures=True)

    return span


def _download(result: Any, name: str) -> bytes:
    if name == "summary.json":
        return json.dumps(services._jsonable(result.to_dict()), indent=1).encode()
    if name == "manifest.json":
        return json.dumps(services._jsonable(dict(result.manifest)), indent=1, default=str).encode()
    frame = result.frame(name.split(".")[0])
    if name.endswith(".csv"):
        return frame.to_csv(index=False).encode()
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()
