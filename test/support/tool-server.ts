// A local stand-in for the three download sites (GitHub releases for minikube, get.helm.sh,
// dl.k8s.io) with their exact layouts, so installs can be tested without the internet.
//
//   const server = await startToolServer({
//     tools: { minikube: { 'v1.39.0': '/path/to/stand-in' }, helm: { 'v4.3.1': bytes } }
//   })
//   // pass server.urls.minikube as `minikube-base-url`, etc.
//   server.fault(server.paths('helm', 'v4.3.1', 'amd64').binary, { status: 500, times: 2 })
//   ... server.requests ... await server.close()
//
// Note: the tool cache retries a failed binary download after 10–20 s; a process that wants
// injected 5xx answers to cost nothing sets `globalThis.TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS`
// and `..._MAX_SECONDS` to 0 (read by @actions/tool-cache on every download).

import { startDownloadServer } from './download-server.mjs'
import type { Arch, ToolName } from '../../src/tools/download.js'

export type { Arch, ToolName }

/** A served program: a path of a file on disk (read once, at start), or its bytes. */
export type Program = string | Uint8Array

export type Fault =
  /** Answer this HTTP status instead, for the next `times` requests (default: all of them). */
  | { status: number; times?: number }
  /** For a checksum file: name a hash that does not match what is served. */
  | { wrongChecksum: true }
  /** Answer 200 with this text instead (a garbled checksum file or "latest" answer). */
  | { body: string }

export interface ToolServerOptions {
  /** Which versions of which tools exist, and the program each serves (the same for every arch). */
  tools: Partial<Record<ToolName, Record<string, Program>>>
  /** What the "latest" endpoints announce; defaults to the last version listed for the tool. */
  latest?: Partial<Record<ToolName, string>>
  /** Faults by request path (see `paths()`); more can be added with `fault()`. */
  faults?: Record<string, Fault>
  /** The architectures served; default amd64 and arm64. */
  arches?: readonly Arch[]
}

export interface ToolServer {
  /** Base URLs, no trailing slash: what `minikube-base-url`, `helm-base-url`, `kubectl-base-url` take. */
  urls: Record<ToolName, string>
  /** `http://127.0.0.1:<port>` */
  origin: string
  /** Path of every request received, in order (`/helm/helm-v4.3.1-linux-amd64.tar.gz`). */
  requests: string[]
  /** The request paths of a release's file and its checksum file. */
  paths(tool: ToolName, version: string, arch: Arch): { binary: string; checksum: string }
  /** The request path of a tool's "latest" endpoint. */
  latestPath(tool: ToolName): string
  /** The bytes served for a release (for helm: the .tar.gz). */
  artifact(tool: ToolName, version: string, arch: Arch): Buffer
  fault(path: string, fault: Fault): void
  clearFaults(): void
  close(): Promise<void>
}

export async function startToolServer(opts: ToolServerOptions): Promise<ToolServer> {
  return (await startDownloadServer(opts)) as ToolServer
}
