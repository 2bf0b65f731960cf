"""Fixtures: a real PostgreSQL server (scripts/postgres.sh) and the app bound to it.

TEST_DATABASE_URL points the suite at a server that is already running (its `todos`
table is emptied before each test); without it a throwaway server is started.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.main import Settings, create_app

POSTGRES_SH = Path(__file__).resolve().parents[3] / "scripts" / "postgres.sh"


@dataclass
class PostgresServer:
    """A throwaway cluster made by scripts/postgres.sh."""

    directory: str
    url: str

    @classmethod
    def start(cls) -> PostgresServer:
        out = subprocess.run(
            ["bash", str(POSTGRES_SH), "start"], check=True, capture_output=True, text=True
        ).stdout
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return cls(directory=values["MP_PG_DIR"], url=values["DATABASE_URL"])

    def _run(self, command: str) -> None:
        subprocess.run(
            ["bash", str(POSTGRES_SH), command, self.directory], check=True, capture_output=True
        )

    def pause(self) -> None:
        self._run("pause")

    def resume(self) -> None:
        self._run("resume")

    def stop(self) -> None:
        self._run("stop")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = PostgresServer.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of the test's own, for tests that take the database away."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


def empty_todos(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE todos RESTART IDENTITY")


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url, startup_timeout=5))) as c:
        empty_todos(database_url)
        yield c
