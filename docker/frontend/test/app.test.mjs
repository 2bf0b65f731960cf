// The built page in a real headless Chromium, against the real backend and PostgreSQL.
//
// Needs `npm run build` first. Uses, when set: TEST_DATABASE_URL (else starts a throwaway
// server with scripts/postgres.sh), BACKEND_PYTHON (else scripts/backend-venv.sh makes one),
// CHROMIUM (default /usr/bin/chromium), SCREENSHOT_DIR (saves what the browser showed).
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const frontendDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const repoDir = path.resolve(frontendDir, '../..')
const backendDir = path.join(repoDir, 'docker/backend')
const serverJs = path.join(frontendDir, '.next/standalone/server.js')
const screenshotDir = process.env.SCREENSHOT_DIR

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
]

const children = []
let postgresDir
let browser

process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function start(name, command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  child.output = ''
  const keep = (chunk) => {
    child.output = (child.output + chunk).slice(-20_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  child.name = name
  children.push(child)
  return child
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

// Polls `check` until it returns a truthy value; fails with `what` and the last error.
async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
}

async function waitForHttp(child, url, okStatus = 200) {
  await until(`${child.name} at ${url}`, async () => {
    if (child.exitCode !== null) {
      throw new Error(`${child.name} exited with ${child.exitCode}:\n${child.output}`)
    }
    const response = await fetch(url)
    return response.status === okStatus
  }, 60_000)
}

async function startFrontend(backendUrl) {
  const port = await freePort()
  const child = start('frontend', process.execPath, [serverJs], {
    cwd: path.dirname(serverJs),
    env: {
      ...process.env,
      PORT: String(port),
      HOSTNAME: '127.0.0.1',
      BACKEND_URL: backendUrl,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1'
    }
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(child, `${url}/healthz`)
  return { child, url }
}

function databaseUrl() {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL
  const out = execFileSync('bash', [path.join(repoDir, 'scripts/postgres.sh'), 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const values = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)))
  postgresDir = values.MP_PG_DIR
  return values.DATABASE_URL
}

function backendPython() {
  if (process.env.BACKEND_PYTHON) return process.env.BACKEND_PYTHON
  const out = execFileSync('bash', [path.join(repoDir, 'scripts/backend-venv.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit']
  })
  return out.trim().split('\n').at(-1)
}

async function screenshot(page, name) {
  if (!screenshotDir) return
  mkdirSync(screenshotDir, { recursive: true })
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true })
}

async function json(url, init) {
  const response = await fetch(url, init)
  return { status: response.status, body: response.status === 204 ? null : await response.json() }
}

describe('Todo Chatbot page', () => {
  let backend // { child, url }
  let frontend // { child, url }
  let page

  const backendTodos = async () => (await json(`${backend.url}/api/todos`)).body

  before(async () => {
    assert.ok(existsSync(serverJs), `${serverJs} is missing: run \`npm run build\` first`)
    const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium'
    assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install -y chromium`)

    const port = await freePort()
    const child = start(
      'backend',
      backendPython(),
      ['-m', 'uvicorn', 'app.main:app', '--host', '127.0.0.1', '--port', String(port)],
      { cwd: backendDir, env: { ...process.env, DATABASE_URL: databaseUrl() } }
    )
    backend = { child, url: `http://127.0.0.1:${port}` }
    await waitForHttp(child, `${backend.url}/ready`)
    for (const todo of await backendTodos()) {
      await fetch(`${backend.url}/api/todos/${todo.id}`, { method: 'DELETE' })
    }

    frontend = await startFrontend(backend.url)
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS
    })
    page = await browser.newPage()
    page.setDefaultTimeout(20_000)
  }, { timeout: 300_000 })

  after(async () => {
    await browser?.close()
    for (const child of children) await stop(child)
    if (postgresDir) {
      execFileSync('bash', [path.join(repoDir, 'scripts/postgres.sh'), 'stop', postgresDir], {
        stdio: 'ignore'
      })
    }
  })

  test('/healthz answers for the container probes', async () => {
    assert.deepEqual(await json(`${frontend.url}/healthz`), { status: 200, body: { status: 'ok' } })
  })

  test('a todo is added, listed and completed, and stays completed', async () => {
    await page.goto(frontend.url)
    await page.getByText('Nothing to do yet.').waitFor()

    await page.getByLabel('New todo').fill('buy milk')
    await page.getByRole('button', { name: 'Add', exact: true }).click()

    const checkbox = page.getByRole('checkbox', { name: 'buy milk' })
    await checkbox.waitFor()
    assert.equal(await checkbox.isChecked(), false)
    assert.equal(await page.getByLabel('New todo').inputValue(), '')
    assert.deepEqual(
      (await backendTodos()).map((t) => [t.title, t.completed]),
      [['buy milk', false]]
    )

    await checkbox.click()
    await until('the backend to store the todo as done', async () =>
      (await backendTodos())[0].completed === true
    )
    await until('the checkbox to be ticked', () => checkbox.isChecked())
    const item = page
      .getByRole('list', { name: 'Todo list' })
      .getByRole('listitem')
      .filter({ hasText: 'buy milk' })
    assert.match((await item.getAttribute('class')) ?? '', /\bdone\b/)
    assert.equal(await page.locator('.count').textContent(), '0 open')
    await screenshot(page, 'todo-completed')

    await page.reload()
    await page.getByRole('checkbox', { name: 'buy milk' }).waitFor()
    assert.equal(await page.getByRole('checkbox', { name: 'buy milk' }).isChecked(), true)
  })

  test('the chat adds a todo and marks it done', async () => {
    await page.goto(frontend.url)
    await page.getByRole('checkbox', { name: 'buy milk' }).waitFor()
    const lastReply = () => page.locator('[data-from="bot"]').last().textContent()

    await page.getByLabel('Message').fill('add walk the dog')
    await page.getByLabel('Message').press('Enter')
    const added = await until('the reply to "add walk the dog"', async () =>
      /^Added #(\d+) "walk the dog"\.$/.exec((await lastReply()) ?? '')
    )
    const id = added[1]
    const checkbox = page.getByRole('checkbox', { name: 'walk the dog' })
    await checkbox.waitFor()
    assert.equal(await checkbox.isChecked(), false)
    assert.equal(await page.locator('.count').textContent(), '1 open')

    await page.getByLabel('Message').fill(`done ${id}`)
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    await until(`the reply to "done ${id}"`, async () =>
      (await lastReply()) === `Marked #${id} "walk the dog" as done.`
    )
    await until('the chat to tick the todo in the list', () => checkbox.isChecked())
    assert.deepEqual(
      (await backendTodos()).map((t) => [t.title, t.completed]),
      [['buy milk', true], ['walk the dog', true]]
    )

    await page.getByLabel('Message').fill('what can you do?')
    await page.getByLabel('Message').press('Enter')
    await until('a helpful reply', async () =>
      ((await lastReply()) ?? '').startsWith('Sorry, I did not understand that.')
    )
    const you = await page.locator('[data-from="you"]').allTextContents()
    assert.deepEqual(you, ['add walk the dog', `done ${id}`, 'what can you do?'])
    await screenshot(page, 'chat')
  })

  test('a todo is deleted from the page', async () => {
    await page.goto(frontend.url)
    await page.getByRole('button', { name: 'Delete buy milk' }).click()
    await page.getByRole('checkbox', { name: 'buy milk' }).waitFor({ state: 'detached' })
    assert.deepEqual((await backendTodos()).map((t) => t.title), ['walk the dog'])
  })

  test('/api on the frontend passes the backend\'s answers through', async () => {
    assert.deepEqual(await json(`${frontend.url}/api/todos/999999`), {
      status: 404,
      body: { detail: 'todo 999999 not found' }
    })
    const invalid = await json(`${frontend.url}/api/todos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"title": ""}'
    })
    assert.equal(invalid.status, 422)
    const created = await json(`${frontend.url}/api/todos?source=proxy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'via the proxy' })
    })
    assert.equal(created.status, 201)
    const removed = await fetch(`${frontend.url}/api/todos/${created.body.id}`, { method: 'DELETE' })
    assert.equal(removed.status, 204)
    assert.equal((await backendTodos()).some((t) => t.title === 'via the proxy'), false)
  })

  test('without a reachable backend the page says so', async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}`
    const lonely = await startFrontend(unreachable)
    try {
      const answer = await json(`${lonely.url}/api/todos`)
      assert.equal(answer.status, 502)
      assert.match(answer.body.detail, /^backend unreachable at http:\/\/127\.0\.0\.1:\d+/)

      await page.goto(lonely.url)
      // Next's own route announcer is an (empty) alert as well.
      const alert = page.getByRole('alert').filter({ hasText: 'Could not' })
      await alert.waitFor()
      assert.match(
        (await alert.textContent()) ?? '',
        /^Could not load your todos: backend unreachable at /
      )
      await screenshot(page, 'backend-unreachable')
    } finally {
      await stop(lonely.child)
    }
  })
})
