// The preview's link: a template of the user's, or the host of the release's Ingress.
import type { ManifestObject } from '../tools/helm.js'

/** The placeholders a `url` template may hold, written `{number}` etc. */
export const URL_PLACEHOLDERS = ['number', 'branch', 'sha', 'namespace', 'release'] as const

export type UrlPlaceholder = (typeof URL_PLACEHOLDERS)[number]

export type UrlValues = Record<UrlPlaceholder, string>

const PLACEHOLDER = /\{([^{}]*)\}/g
const KNOWN = URL_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')

/**
 * What is wrong with a `url` template, or undefined when it is good: it is an `http://` or
 * `https://` URL whose every `{…}` is one of `URL_PLACEHOLDERS` and whose braces pair up.
 */
export function urlTemplateProblem(template: string): string | undefined {
  const unknown = [...template.matchAll(PLACEHOLDER)]
    .map((m) => m[1] as string)
    .filter((name) => !(URL_PLACEHOLDERS as readonly string[]).includes(name))
  if (unknown.length > 0) {
    const names = [...new Set(unknown)].map((n) => `{${n}}`).join(', ')
    return `unknown placeholder${unknown.length > 1 ? 's' : ''} ${names}; the known ones are ${KNOWN}`
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) {
    return `a '{' or '}' that is not part of a placeholder; the known ones are ${KNOWN}`
  }
  if (!/^https?:\/\/[^/\s]/i.test(template) || /\s/.test(template)) {
    return "a URL that starts with 'http://' or 'https://' and holds no spaces"
  }
  return undefined
}

/**
 * A value as it goes into the URL: lower case, every run of characters other than `a-z`, `0-9`
 * and `-` made one `-`, no `-` at either end, at most 63 characters. So `Feature/Login_v2`
 * becomes `feature-login-v2`: the same text is a valid DNS label in a host
 * (`https://{branch}.preview.example.com`) and needs no escaping in a path, and nothing a branch
 * name holds (`/`, `?`, `#`, `@`, `..`) can change which host or path the link points at.
 */
export function urlSafe(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '')
}

/** The template with each placeholder replaced by its URL-safe value (see `urlSafe`). */
export function renderUrl(template: string, values: UrlValues): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    (URL_PLACEHOLDERS as readonly string[]).includes(name)
      ? urlSafe(values[name as UrlPlaceholder])
      : whole
  )
}

// A host as an Ingress may name it, lower case; chart text is hostile, anything else is skipped.
const HOST =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/** Whether a `tls` entry's host (exact, or a `*.` wildcard one label deep) covers `host`. */
function covers(tlsHost: string, host: string): boolean {
  const t = tlsHost.toLowerCase()
  if (t === host) return true
  return t.startsWith('*.') && host.slice(host.indexOf('.') + 1) === t.slice(2)
}

/**
 * The default URL: the first host (not a wildcard) of the first Ingress of the manifest that has
 * one, `https://` when one of that Ingress's `tls` entries covers the host, else `http://`.
 * Undefined when no Ingress names a host.
 */
export function ingressUrl(objects: readonly ManifestObject[]): string | undefined {
  for (const o of objects) {
    if (o.kind !== 'Ingress' || !o.ingress) continue
    const host = o.ingress.hosts.map((h) => h.trim().toLowerCase()).find((h) => HOST.test(h))
    if (!host) continue
    const tls = o.ingress.tlsHosts.some((t) => covers(t, host))
    return `${tls ? 'https' : 'http'}://${host}/`
  }
  return undefined
}
