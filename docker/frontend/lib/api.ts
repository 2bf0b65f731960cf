// The backend's API, always at /api on the page's own origin (ingress or the proxy route).

export interface Todo {
  id: number
  title: string
  completed: boolean
  created_at: string
}

export interface ChatReply {
  reply: string
  action: string
  todo: Todo | null
  todos: Todo[] | null
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message)
  }
}

function detailOf(body: unknown, fallback: string): string {
  if (body && typeof body === 'object' && 'detail' in body) {
    const detail = (body as { detail: unknown }).detail
    if (typeof detail === 'string') return detail
    if (Array.isArray(detail) && detail[0]?.msg) return String(detail[0].msg)
  }
  return fallback
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let response: Response
  try {
    response = await fetch(`/api${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...init?.headers },
      cache: 'no-store'
    })
  } catch {
    throw new ApiError('the server cannot be reached', 0)
  }
  if (response.status === 204) return undefined as T
  const body: unknown = await response.json().catch(() => null)
  if (!response.ok) {
    throw new ApiError(detailOf(body, `${response.status} ${response.statusText}`), response.status)
  }
  return body as T
}

export const api = {
  listTodos: () => call<Todo[]>('/todos'),
  addTodo: (title: string) =>
    call<Todo>('/todos', { method: 'POST', body: JSON.stringify({ title }) }),
  setCompleted: (id: number, completed: boolean) =>
    call<Todo>(`/todos/${id}`, { method: 'PATCH', body: JSON.stringify({ completed }) }),
  deleteTodo: (id: number) => call<void>(`/todos/${id}`, { method: 'DELETE' }),
  chat: (message: string) =>
    call<ChatReply>('/chat', { method: 'POST', body: JSON.stringify({ message }) })
}
