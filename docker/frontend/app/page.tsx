'use client'

import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react'
import { api, type Todo } from '../lib/api'

interface Message {
  id: number
  from: 'you' | 'bot'
  text: string
}

const GREETING =
  'Hi! I can manage your todos. Try "add buy milk", "list", "done 1" or "delete 1".'

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export default function Home() {
  const [todos, setTodos] = useState<Todo[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [title, setTitle] = useState('')
  const [messages, setMessages] = useState<Message[]>([{ id: 0, from: 'bot', text: GREETING }])
  const [draft, setDraft] = useState('')
  const [sending, setSending] = useState(false)
  const nextMessageId = useRef(1)
  const conversationEnd = useRef<HTMLLIElement>(null)

  const refresh = useCallback(async () => {
    try {
      setTodos(await api.listTodos())
      setError(null)
    } catch (err) {
      setError(`Could not load your todos: ${reason(err)}`)
    }
  }, [])

  useEffect(() => {
    void refresh()
  }, [refresh])

  useEffect(() => {
    conversationEnd.current?.scrollIntoView({ block: 'nearest' })
  }, [messages])

  async function addTodo(event: FormEvent) {
    event.preventDefault()
    const text = title.trim()
    if (!text) return
    try {
      const todo = await api.addTodo(text)
      setTodos((current) => [...(current ?? []), todo])
      setTitle('')
      setError(null)
    } catch (err) {
      setError(`Could not add "${text}": ${reason(err)}`)
    }
  }

  async function toggle(todo: Todo) {
    try {
      const updated = await api.setCompleted(todo.id, !todo.completed)
      setTodos((current) => (current ?? []).map((t) => (t.id === updated.id ? updated : t)))
      setError(null)
    } catch (err) {
      setError(`Could not update "${todo.title}": ${reason(err)}`)
    }
  }

  async function remove(todo: Todo) {
    try {
      await api.deleteTodo(todo.id)
      setTodos((current) => (current ?? []).filter((t) => t.id !== todo.id))
      setError(null)
    } catch (err) {
      setError(`Could not delete "${todo.title}": ${reason(err)}`)
    }
  }

  function say(from: Message['from'], text: string) {
    const id = nextMessageId.current++
    setMessages((current) => [...current, { id, from, text }])
  }

  async function send(event: FormEvent) {
    event.preventDefault()
    const text = draft.trim()
    if (!text || sending) return
    say('you', text)
    setDraft('')
    setSending(true)
    try {
      const answer = await api.chat(text)
      say('bot', answer.reply)
      if (answer.action !== 'help' && answer.action !== 'unknown') await refresh()
    } catch (err) {
      say('bot', `Sorry, something went wrong: ${reason(err)}`)
    } finally {
      setSending(false)
    }
  }

  const open = todos?.filter((t) => !t.completed).length ?? 0

  return (
    <main>
      <header>
        <h1>Todo Chatbot</h1>
        <p>Your todos, by click or by chat.</p>
      </header>

      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}

      <div className="panels">
        <section aria-labelledby="todos-heading" className="panel">
          <h2 id="todos-heading">
            Todos {todos && <span className="count">{open} open</span>}
          </h2>
          <form onSubmit={addTodo} className="row">
            <input
              aria-label="New todo"
              placeholder="What needs doing?"
              value={title}
              maxLength={500}
              onChange={(e) => setTitle(e.target.value)}
            />
            <button type="submit" disabled={!title.trim()}>
              Add
            </button>
          </form>

          {todos === null && !error && <p className="muted">Loading…</p>}
          {todos?.length === 0 && (
            <p className="muted">Nothing to do yet. Add a todo, or say &quot;add buy milk&quot; in the chat.</p>
          )}
          {todos && todos.length > 0 && (
            <ul aria-label="Todo list" className="todos">
              {todos.map((todo) => (
                <li key={todo.id} className={todo.completed ? 'done' : undefined}>
                  <label>
                    <input
                      type="checkbox"
                      checked={todo.completed}
                      onChange={() => void toggle(todo)}
                    />
                    <span className="id">#{todo.id}</span>
                    <span className="title">{todo.title}</span>
                  </label>
                  <button
                    type="button"
                    className="link"
                    aria-label={`Delete ${todo.title}`}
                    onClick={() => void remove(todo)}
                  >
                    Delete
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>

        <section aria-labelledby="chat-heading" className="panel chat">
          <h2 id="chat-heading">Chat</h2>
          <ol aria-label="Conversation" aria-live="polite" className="conversation">
            {messages.map((m) => (
              <li key={m.id} className={m.from} data-from={m.from}>
                {m.text}
              </li>
            ))}
            <li ref={conversationEnd} aria-hidden="true" className="end" />
          </ol>
          <form onSubmit={send} className="row">
            <input
              aria-label="Message"
              placeholder='Try "add buy milk"'
              value={draft}
              maxLength={1000}
              onChange={(e) => setDraft(e.target.value)}
            />
            <button type="submit" disabled={sending || !draft.trim()}>
              Send
            </button>
          </form>
        </section>
      </div>
    </main>
  )
}
