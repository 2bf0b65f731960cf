// Completes `.next/standalone` so that `node .next/standalone/server.js` serves the page's
// own scripts and styles, as the image does (next build leaves them out of that folder).
import { cpSync, existsSync, rmSync } from 'node:fs'

const target = '.next/standalone/.next/static'
rmSync(target, { recursive: true, force: true })
cpSync('.next/static', target, { recursive: true })
if (existsSync('public')) cpSync('public', '.next/standalone/public', { recursive: true })
