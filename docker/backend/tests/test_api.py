"""The todo API under /api, against a real PostgreSQL server."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.main import Settings, create_app


def test_a_new_database_has_no_todos(client: TestClient) -> None:
    response = client.get("/api/todos")
    assert response.status_code == 200
    assert response.json() == []


def test_created_todos_are_listed_in_order(client: TestClient) -> None:
    first = client.post("/api/todos", json={"title": "  buy milk  "})
    second = client.post("/api/todos", json={"title": "walk the dog"})
    assert first.status_code == 201
    assert first.json()["title"] == "buy milk"  # surrounding whitespace is dropped
    assert first.json()["completed"] is False
    assert first.json()["created_at"]
    assert second.json()["id"] > first.json()["id"]

    listed = client.get("/api/todos").json()
    assert [t["title"] for t in listed] == ["buy milk", "walk the dog"]
    assert client.get(f"/api/todos/{first.json()['id']}").json() == first.json()


@pytest.mark.parametrize(
    "body",
    [{}, {"title": ""}, {"title": "   "}, {"title": "x" * 501}, {"title": "ok", "extra": 1}],
    ids=["missing", "empty", "blank", "too-long", "unknown-field"],
)
def test_invalid_todos_are_refused(client: TestClient, body: dict) -> None:
    response = client.post("/api/todos", json=body)
    assert response.status_code == 422
    assert client.get("/api/todos").json() == []


def test_completing_a_todo_is_stored(client: TestClient, database_url: str) -> None:
    todo = client.post("/api/todos", json={"title": "buy milk"}).json()
    response = client.patch(f"/api/todos/{todo['id']}", json={"completed": True})
    assert response.status_code == 200
    assert response.json()["completed"] is True
    assert response.json()["title"] == "buy milk"

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT completed FROM todos WHERE id = %s", (todo["id"],)).fetchone()
    assert row == (True,)

    reopened = client.patch(f"/api/todos/{todo['id']}", json={"completed": False}).json()
    assert reopened["completed"] is False


def test_renaming_keeps_the_completed_flag(client: TestClient) -> None:
    todo = client.post("/api/todos", json={"title": "buy milk"}).json()
    client.patch(f"/api/todos/{todo['id']}", json={"completed": True})
    renamed = client.patch(f"/api/todos/{todo['id']}", json={"title": "buy oat milk"}).json()
    assert renamed == {**todo, "title": "buy oat milk", "completed": True}


def test_deleted_todos_are_gone(client: TestClient) -> None:
    keep = client.post("/api/todos", json={"title": "keep"}).json()
    drop = client.post("/api/todos", json={"title": "drop"}).json()
    response = client.delete(f"/api/todos/{drop['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/api/todos").json() == [keep]
    assert client.get(f"/api/todos/{drop['id']}").status_code == 404
    assert client.delete(f"/api/todos/{drop['id']}").status_code == 404


@pytest.mark.parametrize(
    "method, body", [("get", None), ("patch", {"completed": True}), ("delete", None)]
)
def test_unknown_ids_are_404(client: TestClient, method: str, body: dict | None) -> None:
    kwargs = {"json": body} if body is not None else {}
    response = client.request(method.upper(), "/api/todos/4242", **kwargs)
    assert response.status_code == 404
    assert response.json() == {"detail": "todo 4242 not found"}


def test_ids_out_of_range_are_refused(client: TestClient) -> None:
    assert client.get("/api/todos/0").status_code == 422
    assert client.get(f"/api/todos/{2**63}").status_code == 422
    assert client.get("/api/todos/abc").status_code == 422


def test_todos_outlive_the_process(client: TestClient, database_url: str) -> None:
    client.post("/api/todos", json={"title": "survives a restart"})
    with TestClient(create_app(Settings(database_url=database_url))) as restarted:
        assert [t["title"] for t in restarted.get("/api/todos").json()] == ["survives a restart"]


def test_the_schema_is_created_at_start(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS todos")
    with TestClient(create_app(Settings(database_url=database_url))) as fresh:
        with psycopg.connect(database_url) as conn:
            exists = conn.execute("SELECT to_regclass('todos') IS NOT NULL").fetchone()
        assert exists == (True,)
        assert fresh.post("/api/todos", json={"title": "first"}).json()["id"] == 1


@pytest.mark.parametrize("scheme", ["postgres", "postgresql+psycopg"])
def test_other_url_spellings_are_accepted(database_url: str, scheme: str) -> None:
    url = database_url.replace("postgresql://", f"{scheme}://", 1)
    with TestClient(create_app(Settings(database_url=url))) as c:
        assert c.get("/ready").status_code == 200
        assert c.get("/api/todos").status_code == 200


def test_openapi_docs_describe_the_api(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/todos", "/api/todos/{todo_id}", "/api/chat", "/health", "/ready"} <= set(paths)
