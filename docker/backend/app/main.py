"""Todo Chatbot backend: a todo API and a command chat under /api, probes at /health and /ready."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, FastAPI, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from . import chat
from .db import Database, DatabaseUnavailable

log = logging.getLogger("todo")

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
TodoId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    startup_timeout: float = 10.0

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            startup_timeout=float(os.environ.get("DB_STARTUP_TIMEOUT", "10")),
        )


class TodoCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title


class TodoUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    completed: bool | None = None


class Todo(BaseModel):
    id: int
    title: str
    completed: bool
    created_at: datetime


class ChatRequest(BaseModel):
    message: Annotated[str, StringConstraints(max_length=1000)]


class ChatReply(BaseModel):
    reply: str
    action: str = Field(description="add, list, done, undo, delete, help or unknown")
    todo: Todo | None = None
    todos: list[Todo] | None = None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    db = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if db.url is None:
            log.warning("DATABASE_URL is not set: /ready will answer 503")
        elif not await to_thread.run_sync(db.wait_until_ready, settings.startup_timeout):
            log.warning("starting without the database; it is retried on every request")
        yield

    app = FastAPI(
        title="Todo Chatbot API",
        version="1.0.0",
        description="Todos and a command chat. Probes: /health (process), /ready (database).",
        lifespan=lifespan,
    )
    app.state.db = db

    @app.exception_handler(DatabaseUnavailable)
    async def database_unavailable(_request: Request, err: DatabaseUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": f"database unavailable: {err}"})

    @app.get("/health", tags=["probes"])
    @app.get("/api/health", tags=["probes"], include_in_schema=False)
    def health() -> dict[str, str]:
        """The process is up. Never touches the database."""
        return {"status": "healthy"}

    @app.get("/ready", tags=["probes"])
    @app.get("/api/ready", tags=["probes"], include_in_schema=False)
    def ready(response: Response) -> dict[str, str]:
        """The database is reachable and the schema is in place; 503 otherwise."""
        try:
            db.ping()
        except DatabaseUnavailable as err:
            response.status_code = 503
            return {"status": "not ready", "database": str(err)}
        return {"status": "ready", "database": "reachable"}

    @app.get("/", include_in_schema=False)
    def root() -> dict[str, str]:
        return {"service": "todo-chatbot-backend", "docs": "/docs", "api": "/api/todos"}

    api = APIRouter(prefix="/api")

    @api.get("/todos", response_model=list[Todo], tags=["todos"])
    def list_todos() -> list[dict]:
        return db.list_todos()

    @api.post("/todos", response_model=Todo, status_code=201, tags=["todos"])
    def create_todo(body: TodoCreate) -> dict:
        return db.create_todo(body.title)

    @api.get("/todos/{todo_id}", response_model=Todo, tags=["todos"])
    def get_todo(todo_id: TodoId) -> dict:
        todo = db.get_todo(todo_id)
        if todo is None:
            raise HTTPException(404, f"todo {todo_id} not found")
        return todo

    @api.patch("/todos/{todo_id}", response_model=Todo, tags=["todos"])
    def update_todo(todo_id: TodoId, body: TodoUpdate) -> dict:
        todo = db.update_todo(todo_id, title=body.title, completed=body.completed)
        if todo is None:
            raise HTTPException(404, f"todo {todo_id} not found")
        return todo

    @api.delete("/todos/{todo_id}", status_code=204, tags=["todos"])
    def delete_todo(todo_id: TodoId) -> Response:
        if db.delete_todo(todo_id) is None:
            raise HTTPException(404, f"todo {todo_id} not found")
        return Response(status_code=204)

    @api.post("/chat", response_model=ChatReply, tags=["chat"])
    def chat_message(body: ChatRequest) -> dict:
        """Commands: add <task>, list, done <n>, undo <n>, delete <n>, help."""
        return chat.respond(db, body.message)

    app.include_router(api)
    return app


logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
app = create_app()
