"""Fixtures shared by the whole suite: the example lab book built once, a local web server,
and one headless Chromium for the browser tests."""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.skips import skip_or_fail

REPO = Path(__file__).resolve().parents[1]
ENGINES = ("mkdocs", "zensical")

CHROMIUM = Path("/usr/bin/chromium")
# Nothing may be fetched: no sandbox (containers), no GPU, and none of Chromium's own traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# --- a static file server -------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser that closes a connection early is not a test failure.
        pass


ServeDir = Callable[[Path], str]


@pytest.fixture(scope="session")
def serve_dir() -> Iterator[ServeDir]:
    """Gives `serve(path) -> origin`: serves a folder on 127.0.0.1 at a free port until the
    session ends. The origin has no trailing slash (`http://127.0.0.1:PORT`)."""
    servers: list[tuple[_QuietServer, threading.Thread]] = []

    def serve(path: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(path))
        server = _QuietServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, name=f"serve {path}", daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the example lab book, built once per engine -------------------------------------


@dataclass
class BuiltSites:
    """The example lab book copied into a temporary folder and built with each engine."""

    project: Path  # the folder holding mkdocs.yml, reports/ and runs/
    sites: dict[str, Path]  # engine -> site folder

    def site(self, engine: str) -> Path:
        return self.sites[engine]


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keeps the run cache of `labbook.open_source` (scripts and notebooks) out of ~/.cache."""
    folder = tmp_path_factory.mktemp("user-cache")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


def copy_example(dest: Path) -> Path:
    """Copies the example lab book (mkdocs.yml, reports/, runs/, mlflow.db, wandb/,
    tensorboard/) into dest; gives dest."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(REPO / "reports", dest / "reports")
    shutil.copytree(REPO / "runs", dest / "runs")
    shutil.copy2(REPO / "mlflow.db", dest / "mlflow.db")
    # W&B's `latest-run` is a symlink to the run folder; it is copied as a link.
    shutil.copytree(REPO / "wandb", dest / "wandb", symlinks=True)
    shutil.copytree(REPO / "tensorboard", dest / "tensorboard")
    return dest


def build_project(project_dir: Path, engines: tuple[str, ...] = ENGINES) -> dict[str, Path]:
    """Builds the project in project_dir with each engine; gives engine -> site folder.

    A build that reports errors fails the calling fixture: every test after it would be
    looking at error boxes instead of charts.
    """
    from labbook.project import Project
    from labbook.site.build import build_site

    project = Project.load(project_dir / "mkdocs.yml")
    sites: dict[str, Path] = {}
    for engine in engines:
        site = project_dir / f"site-{engine}"
        result = build_site(project, site, engine=engine)
        if result.errors:
            pytest.fail(
                f"building {project_dir} with {engine} gave errors: "
                + "; ".join(str(e) for e in result.errors)
            )
        sites[engine] = site
    return sites


@pytest.fixture(scope="session")
def built_sites(tmp_path_factory: pytest.TempPathFactory) -> BuiltSites:
    """The example lab book, built once with MkDocs and once with Zensical."""
    project = copy_example(tmp_path_factory.mktemp("example") / "labbook")
    return BuiltSites(project, build_project(project))


# --- headless Chromium ----------------------------------------------------------------


def _no_browser(reason: str) -> NoReturn:
    skip_or_fail(f"headless Chromium is not available: {reason}", "LABBOOK_REQUIRE_BROWSER")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (Debian's, never a downloaded one)."""
    if not CHROMIUM.exists():
        _no_browser(f"{CHROMIUM} does not exist (install Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _no_browser(f"the playwright package is not installed ({exc})")
    with sync_playwright() as pw:
        try:
            chromium = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:
            _no_browser(f"{CHROMIUM} did not start: {exc}")
        yield chromium
        chromium.close()


# --- pages in the browser -------------------------------------------------------------

DRAW_TIMEOUT_MS = 15_000


@dataclass
class Visit:
    """An open page, with what it logged and requested since it was opened."""

    page: Any
    origin: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


OpenPage = Callable[..., Visit]


LOCAL = "http://127.0.0.1:"


@pytest.fixture(scope="session")
def browser_context(browser: Any) -> Iterator[Any]:
    """One context for every page, so Plotly.js is fetched and compiled once per site.

    Requests that leave 127.0.0.1 are aborted (each test still records and checks them),
    so a stray one fails fast instead of hanging on a machine without internet.
    """
    context = browser.new_context(service_workers="block")

    def route(r: Any) -> None:
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    yield context
    context.close()


@pytest.fixture
def open_page(browser_context: Any) -> Iterator[OpenPage]:
    """Gives `open_page(origin, path, width=1280, height=900) -> Visit`: a new page that
    records console errors, page errors and every request it makes."""
    pages: list[Any] = []

    def open_(origin: str, path: str, width: int = 1280, height: int = 900) -> Visit:
        assert origin.startswith(LOCAL)
        page = browser_context.new_page()
        pages.append(page)
        page.set_viewport_size({"width": width, "height": height})
        page.set_default_timeout(DRAW_TIMEOUT_MS)
        visit = Visit(page, origin)
        page.on(
            "console",
            lambda m: (
                visit.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: visit.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: visit.requests.append(r.url))
        page.goto(origin + path, wait_until="load")
        return visit

    yield open_
    for page in pages:
        page.close()


@pytest.fixture(scope="session")
def example_origins(built_sites: BuiltSites, serve_dir: ServeDir) -> dict[str, str]:
    """engine -> origin of the example lab book's site."""
    return {engine: serve_dir(built_sites.site(engine)) for engine in ENGINES}
