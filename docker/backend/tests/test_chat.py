"""POST /api/chat: plain commands change the same todos the API serves."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.chat import Command, parse_command


def say(client: TestClient, message: str) -> dict:
    response = client.post("/api/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return response.json()


def titles(client: TestClient) -> list[tuple[str, bool]]:
    return [(t["title"], t["completed"]) for t in client.get("/api/todos").json()]


def test_add_creates_a_todo(client: TestClient) -> None:
    answer = say(client, "add buy milk")
    assert answer["action"] == "add"
    assert answer["reply"] == 'Added #1 "buy milk".'
    assert answer["todo"]["title"] == "buy milk"
    assert titles(client) == [("buy milk", False)]


def test_list_shows_every_todo_and_its_state(client: TestClient) -> None:
    assert "no todos yet" in say(client, "list")["reply"]
    say(client, "add buy milk")
    say(client, "add walk the dog")
    say(client, "done 1")
    answer = say(client, "list")
    assert answer["reply"] == (
        "You have 2 todos (1 open):\n#1 [x] buy milk\n#2 [ ] walk the dog"
    )
    assert [t["title"] for t in answer["todos"]] == ["buy milk", "walk the dog"]


def test_done_and_undo_change_the_todo(client: TestClient) -> None:
    say(client, "add buy milk")
    say(client, "add walk the dog")
    answer = say(client, "done 2")
    assert answer["reply"] == 'Marked #2 "walk the dog" as done.'
    assert titles(client) == [("buy milk", False), ("walk the dog", True)]
    assert say(client, "undo #2")["reply"] == 'Reopened #2 "walk the dog".'
    assert titles(client) == [("buy milk", False), ("walk the dog", False)]


def test_delete_removes_the_todo(client: TestClient) -> None:
    for title in ("a", "b", "c"):
        say(client, f"add {title}")
    assert say(client, "delete 3")["reply"] == 'Deleted #3 "c".'
    assert titles(client) == [("a", False), ("b", False)]


def test_commands_ignore_case_and_a_colon(client: TestClient) -> None:
    say(client, "ADD: Call Mom")
    say(client, "Done #1")
    assert titles(client) == [("Call Mom", True)]


def test_a_missing_todo_is_reported_and_nothing_changes(client: TestClient) -> None:
    say(client, "add buy milk")
    assert say(client, "done 99")["reply"] == 'There is no todo #99. Say "list" to see them.'
    assert say(client, "delete 99")["todo"] is None
    assert titles(client) == [("buy milk", False)]


@pytest.mark.parametrize(
    "message, expected",
    [
        ("done", 'Which todo? Give its number, like "done 2".'),
        ("delete milk", 'Which todo? Give its number, like "delete 3".'),
        ("add", 'What should I add? Say "add buy milk".'),
    ],
)
def test_incomplete_commands_ask_for_what_is_missing(
    client: TestClient, message: str, expected: str
) -> None:
    assert say(client, message)["reply"] == expected
    assert titles(client) == []


def test_anything_else_gets_a_helpful_reply(client: TestClient) -> None:
    answer = say(client, "what's the weather like?")
    assert answer["action"] == "unknown"
    assert answer["reply"].startswith("Sorry, I did not understand that.")
    assert '"add buy milk"' in answer["reply"] and '"list"' in answer["reply"]
    assert titles(client) == []
    assert say(client, "help")["action"] == "help"
    assert say(client, "   ")["action"] == "help"


def test_a_message_is_required(client: TestClient) -> None:
    assert client.post("/api/chat", json={}).status_code == 422
    assert client.post("/api/chat", json={"message": "x" * 1001}).status_code == 422


@pytest.mark.parametrize(
    "message, command",
    [
        ("add buy milk", Command("add", "buy milk")),
        ("  list  ", Command("list")),
        ("complete 4", Command("done", "4")),
        ("rm #5", Command("delete", "#5")),
        ("reopen 1", Command("undo", "1")),
        ("buy milk", Command("unknown", "buy milk")),
        ("", Command("help")),
    ],
)
def test_parse_command(message: str, command: Command) -> None:
    assert parse_command(message) == command
