"""PostgreSQL access: one short-lived connection per operation, schema made on first use."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

log = logging.getLogger("todo.db")

# Two replicas starting together must not both run CREATE TABLE at once.
_SCHEMA_LOCK_ID = 7_242_001

SCHEMA = """
CREATE TABLE IF NOT EXISTS todos (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    completed   BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""

_COLUMNS = "id, title, completed, created_at"


class DatabaseUnavailable(Exception):
    """The database could not be reached, or DATABASE_URL is not set."""


def normalize_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs (postgresql+psycopg://) and the short postgres:// scheme."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    base = scheme.split("+", 1)[0]
    if base == "postgres":
        base = "postgresql"
    return f"{base}://{rest}"


class Database:
    def __init__(self, url: str | None, connect_timeout: int = 3) -> None:
        self.url = normalize_url(url) if url else None
        self.connect_timeout = connect_timeout
        self._schema_ready = False
        self._schema_lock = threading.Lock()

    @contextmanager
    def _raw(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        if not self.url:
            raise DatabaseUnavailable("DATABASE_URL is not set")
        try:
            conn = psycopg.connect(
                self.url,
                connect_timeout=self.connect_timeout,
                autocommit=True,
                row_factory=dict_row,
            )
        except psycopg.OperationalError as err:
            raise DatabaseUnavailable(str(err).strip()) from err
        try:
            yield conn
        except psycopg.OperationalError as err:
            raise DatabaseUnavailable(str(err).strip()) from err
        finally:
            conn.close()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        with self._raw() as conn:
            if not self._schema_ready:
                self._create_schema(conn)
            yield conn

    def _create_schema(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        with self._schema_lock:
            if self._schema_ready:
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_ID,))
                conn.execute(SCHEMA)
            self._schema_ready = True
            log.info("database schema is in place")

    def wait_until_ready(self, timeout: float, interval: float = 1.0) -> bool:
        """Try to connect and create the schema until `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.ping()
                return True
            except DatabaseUnavailable as err:
                if time.monotonic() >= deadline:
                    log.warning("database not reachable yet: %s", err)
                    return False
                log.info("waiting for the database: %s", err)
                time.sleep(interval)

    def ping(self) -> None:
        with self.connection() as conn:
            conn.execute("SELECT 1")

    # --- todos -------------------------------------------------------------

    def list_todos(self) -> list[dict[str, Any]]:
        with self.connection() as conn:
            return conn.execute(f"SELECT {_COLUMNS} FROM todos ORDER BY id").fetchall()

    def get_todo(self, todo_id: int) -> dict[str, Any] | None:
        with self.connection() as conn:
            return conn.execute(
                f"SELECT {_COLUMNS} FROM todos WHERE id = %s", (todo_id,)
            ).fetchone()

    def create_todo(self, title: str) -> dict[str, Any]:
        with self.connection() as conn:
            row = conn.execute(
                f"INSERT INTO todos (title) VALUES (%s) RETURNING {_COLUMNS}", (title,)
            ).fetchone()
            assert row is not None
            return row

    def update_todo(
        self, todo_id: int, title: str | None = None, completed: bool | None = None
    ) -> dict[str, Any] | None:
        with self.connection() as conn:
            return conn.execute(
                f"""
                UPDATE todos
                   SET title = COALESCE(%s, title),
                       completed = COALESCE(%s, completed)
                 WHERE id = %s
             RETURNING {_COLUMNS}
                """,
                (title, completed, todo_id),
            ).fetchone()

    def delete_todo(self, todo_id: int) -> dict[str, Any] | None:
        with self.connection() as conn:
            return conn.execute(
                f"DELETE FROM todos WHERE id = %s RETURNING {_COLUMNS}", (todo_id,)
            ).fetchone()
