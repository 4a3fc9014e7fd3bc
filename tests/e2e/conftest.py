"""A real civicgrid instance for browser tests: `civicgrid init` and `civicgrid serve` run as
subprocesses on a fresh database (a temporary SQLite file, or a dedicated PostgreSQL database
when the suite runs on PostgreSQL), driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.instance import CLI, instance

CHROMIUM = os.environ.get("CIVICGRID_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
# named after the suite's database, so two checkouts can run browser tests side by side
E2E_DB = os.environ.get("CIVICGRID_DATABASE_URL", "/civicgrid").rsplit("/", 1)[-1] + "_e2e"
ADMIN_PASSWORD = "E2e-admin-password-2026"
E2E_SCALE = 0.0005


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """Base URL of a served instance holding Shenzhen's tree at default density."""
    data_dir = tmp_path_factory.mktemp("e2e-var")
    # a small synthetic city (≈300 buildings, 10,000 residents) for the registry pages
    with instance(data_dir, E2E_DB, "--scale", str(E2E_SCALE)) as env:
        yield from _serve(env, data_dir)


_SERVED: dict[str, dict[str, str]] = {}


def _serve(env: dict[str, str], data_dir: Path):
    cli = CLI
    _SERVED["env"] = env
    subprocess.run(
        [
            *cli,
            "user",
            "e2e_admin",
            "--role",
            "steward",
            "--region",
            "440300",
            "--password",
            ADMIN_PASSWORD,
            "--superuser",
        ],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    port = _free_port()
    log = open(data_dir / "serve.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError((data_dir / "serve.log").read_text()) from None
            time.sleep(0.3)
    yield url
    server.terminate()
    server.wait(timeout=20)
    log.close()


STAFF_PASSWORD = "E2e-staff-password-2026"
# the people of the browser walk, created in the served instance with `civicgrid user`
STAFF = [
    ("e2e_dispatcher", "dispatcher", "440306", "440306-ZZ"),
    ("e2e_cg", "department", "440306", "440306-CG"),
    ("e2e_operator", "operator", "440300", None),
    ("e2e_grid", "grid_worker", "440306017001", None),
]


@pytest.fixture(scope="session")
def staff(served) -> dict[str, str]:
    """Staff users of 宝安区 in the served instance: username → password."""
    for name, role, region, dept in STAFF:
        args = [*CLI, "user", name, "--role", role, "--region", region]
        args += ["--department", dept] if dept else []
        subprocess.run(
            [*args, "--password", STAFF_PASSWORD],
            env=_SERVED["env"],
            check=True,
            timeout=120,
            capture_output=True,
        )
    return {name: STAFF_PASSWORD for name, *_ in STAFF}


def login(page, served: str, username: str, password: str = STAFF_PASSWORD) -> None:
    page.goto(served + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("form.card button[type=submit]").click()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    suffix = (
        "pg" if os.environ.get("CIVICGRID_DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    path = ARTIFACTS / f"{name}-{suffix}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
