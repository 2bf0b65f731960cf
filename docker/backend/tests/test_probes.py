"""/health and /ready, including a database that is missing, down, or comes back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import Settings, create_app

from .conftest import PostgresServer

BACKEND = Path(__file__).resolve().parents[1]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/todo"


def test_health_and_ready_with_the_database_up(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "healthy"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "reachable"}
    assert client.get("/api/health").json() == {"status": "healthy"}


def test_without_a_database_the_process_is_healthy_but_not_ready() -> None:
    settings = Settings(database_url=closed_port_url(), startup_timeout=0)
    with TestClient(create_app(settings)) as c:
        assert c.get("/health").status_code == 200
        assert c.get("/health").json() == {"status": "healthy"}
        ready = c.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not ready"
        todos = c.get("/api/todos")
        assert todos.status_code == 503
        assert todos.json()["detail"].startswith("database unavailable")
        assert c.post("/api/chat", json={"message": "list"}).status_code == 503


def test_without_database_url_ready_says_so() -> None:
    with TestClient(create_app(Settings(database_url=None))) as c:
        assert c.get("/health").status_code == 200
        ready = c.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["database"] == "DATABASE_URL is not set"


def test_ready_follows_the_database_down_and_back(own_postgres: PostgresServer) -> None:
    with TestClient(create_app(Settings(database_url=own_postgres.url))) as c:
        c.post("/api/todos", json={"title": "kept through the outage"})
        assert c.get("/ready").status_code == 200

        own_postgres.pause()
        assert c.get("/ready").status_code == 503
        assert c.get("/health").status_code == 200
        assert c.get("/api/todos").status_code == 503

        own_postgres.resume()
        assert c.get("/ready").status_code == 200
        assert [t["title"] for t in c.get("/api/todos").json()] == ["kept through the outage"]


def test_a_backend_started_before_its_database_becomes_ready(
    own_postgres: PostgresServer,
) -> None:
    own_postgres.pause()
    with TestClient(create_app(Settings(database_url=own_postgres.url, startup_timeout=0))) as c:
        assert c.get("/ready").status_code == 503
        own_postgres.resume()
        assert c.get("/ready").status_code == 200
        assert c.post("/api/todos", json={"title": "made after all"}).status_code == 201


def test_startup_waits_briefly_for_the_database(own_postgres: PostgresServer) -> None:
    own_postgres.pause()
    resumer = threading.Timer(1.5, own_postgres.resume)
    resumer.start()
    started = time.monotonic()
    try:
        with TestClient(create_app(Settings(database_url=own_postgres.url, startup_timeout=30))) as c:
            waited = time.monotonic() - started
            assert c.get("/ready").status_code == 200  # ready from the first request on
    finally:
        resumer.join()
    assert 1.0 < waited < 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_python_dash_m_app_serves_on_port_from_the_environment(database_url: str) -> None:
    """The image's command, `python -m app`, with PORT and DATABASE_URL from the environment."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": database_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=BACKEND,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = get(f"{base}/health")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "the server did not answer within 30 s"
                time.sleep(0.2)
        assert (status, body) == (200, b'{"status":"healthy"}')
        assert get(f"{base}/ready")[0] == 200
        assert get(f"{base}/docs")[0] == 200
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=15)
    # SIGTERM (what Kubernetes sends) ends it gracefully, not by being killed mid-request.
    assert b"Application shutdown complete" in stderr
    assert server.returncode in (0, -15)
