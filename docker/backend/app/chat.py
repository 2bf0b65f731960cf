"""The chat assistant: plain commands, no external AI service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .db import Database

HELP = (
    'I can manage your todos. Try: "add buy milk", "list", '
    '"done 2", "undo 2" or "delete 3".'
)

_VERBS = {
    "add": "add",
    "create": "add",
    "new": "add",
    "list": "list",
    "ls": "list",
    "show": "list",
    "todos": "list",
    "done": "done",
    "complete": "done",
    "finish": "done",
    "check": "done",
    "undo": "undo",
    "reopen": "undo",
    "uncheck": "undo",
    "delete": "delete",
    "remove": "delete",
    "rm": "delete",
    "help": "help",
}

_NUMBER = re.compile(r"^#?(\d{1,18})$")


@dataclass(frozen=True)
class Command:
    action: str  # add | list | done | undo | delete | help | unknown
    argument: str = ""


def parse_command(message: str) -> Command:
    text = message.strip()
    if not text:
        return Command("help")
    head, _, rest = text.partition(" ")
    verb = _VERBS.get(head.lower().rstrip(":"))
    if verb is None:
        return Command("unknown", text)
    return Command(verb, rest.strip())


def _describe(todo: dict[str, Any]) -> str:
    return f'#{todo["id"]} "{todo["title"]}"'


def _target(command: Command) -> int | None:
    match = _NUMBER.match(command.argument)
    return int(match.group(1)) if match else None


def respond(db: Database, message: str) -> dict[str, Any]:
    """Run one chat message against the database and say what happened."""
    command = parse_command(message)
    result: dict[str, Any] = {"action": command.action, "todo": None, "todos": None}

    if command.action == "add":
        title = command.argument
        if not title:
            result["reply"] = 'What should I add? Say "add buy milk".'
        elif len(title) > 500:
            result["reply"] = "That is too long for a todo: keep it under 500 characters."
        else:
            todo = db.create_todo(title)
            result["todo"] = todo
            result["reply"] = f"Added {_describe(todo)}."
        return result

    if command.action == "list":
        todos = db.list_todos()
        result["todos"] = todos
        if not todos:
            result["reply"] = 'You have no todos yet. Try "add buy milk".'
        else:
            lines = [
                f'#{t["id"]} [{"x" if t["completed"] else " "}] {t["title"]}' for t in todos
            ]
            open_count = sum(1 for t in todos if not t["completed"])
            result["reply"] = (
                f"You have {len(todos)} todo{'s' if len(todos) != 1 else ''} "
                f"({open_count} open):\n" + "\n".join(lines)
            )
        return result

    if command.action in ("done", "undo", "delete"):
        todo_id = _target(command)
        if todo_id is None:
            example = {"done": "done 2", "undo": "undo 2", "delete": "delete 3"}[command.action]
            result["reply"] = f'Which todo? Give its number, like "{example}".'
            return result
        if command.action == "delete":
            todo = db.delete_todo(todo_id)
        else:
            todo = db.update_todo(todo_id, completed=command.action == "done")
        if todo is None:
            result["reply"] = f'There is no todo #{todo_id}. Say "list" to see them.'
            return result
        result["todo"] = todo
        verb = {"done": "Marked {} as done.", "undo": "Reopened {}.", "delete": "Deleted {}."}
        result["reply"] = verb[command.action].format(_describe(todo))
        return result

    if command.action == "unknown":
        result["reply"] = f"Sorry, I did not understand that. {HELP}"
    else:
        result["reply"] = HELP
    return result
