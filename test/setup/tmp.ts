// Every temporary folder of a suite's run (runners, stand-ins, scripts' mktemp) goes under one
// folder of that run, removed when the suite ends: a test that leaves its own behind still leaves
// nothing on the machine. Listed first, so its teardown runs last, after the engines are down.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'mp-test-'))
  // Like /tmp: programs run as another user (PostgreSQL's initdb) make their folders here too.
  chmodSync(root, 0o1777)
  // Read by os.tmpdir() in the test workers and by mktemp in the scripts they start.
  process.env['TMPDIR'] = root
  return () => rmSync(root, { recursive: true, force: true })
}
