// The types of download-server.mjs, loosely: test/support/tool-server.ts gives the precise ones.
export function startDownloadServer(opts: {
  tools: Record<string, Record<string, string | Uint8Array> | undefined>
  latest?: Record<string, string | undefined>
  faults?: Record<string, object>
  arches?: readonly string[]
}): Promise<{ origin: string; urls: Record<string, string>; close(): Promise<void> }>
