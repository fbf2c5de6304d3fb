"""Fixtures of the dashboard tests: an app, a registry folder written by ``analyze``, a live server, a browser."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs the 'web' extra")

from reawaken.dashboard import Settings, create_app  # noqa: E402

ROOT = Path(__file__).parents[2]
TEST_HOSTS = ("testserver",)  # the Host name of FastAPI's TestClient; a real server accepts only the loopback


def _registry_fixture():
    spec = importlib.util.spec_from_file_location("registry_fixture", ROOT / "tests" / "integration" / "registry_fixture.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def registry_dir(tmp_path_factory) -> Path:
    """A folder holding one ``analyze --out`` folder: the planted-check study on a registry with planted HRs."""
    import reawaken.api as api

    work = tmp_path_factory.mktemp("registry")
    cohort = _registry_fixture().write_cohort(work / "cohort", n=1500, seed=3)
    reg = api.write_registry(cohort, work / "registry.duckdb", seed=1, ascertainment="covid=1,influenza=1")
    root = work / "results"
    api.analyze(reg, "planted-check").save(root / "planted-check")
    return root


@pytest.fixture()
def settings(tmp_path, registry_dir) -> Settings:
    return Settings(data_dir=tmp_path / "data", registry_dir=registry_dir, max_cohort_n=5000, max_risk_n=3000,
                    extra_hosts=TEST_HOSTS)


@pytest.fixture()
def client(settings):
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings)) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, registry_dir):
    """The app under uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    port = free_port()
    settings = Settings(data_dir=tmp_path_factory.mktemp("live"), registry_dir=registry_dir, max_cohort_n=20_000,
                        max_risk_n=3000)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser). CI installs it (.ci/run): there a
    missing browser fails the run; on a developer machine without it the browser tests are skipped."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    exe = chromium_path()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()
