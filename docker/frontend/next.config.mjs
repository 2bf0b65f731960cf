import path from 'node:path'
import { fileURLToPath } from 'node:url'

// This folder is the whole app, even inside a checkout that has other lockfiles above it.
const root = path.dirname(fileURLToPath(import.meta.url))

/** @type {import('next').NextConfig} */
const nextConfig = {
  output: 'standalone',
  outputFileTracingRoot: root,
  turbopack: { root },
  poweredByHeader: false,
  reactStrictMode: true
}

export default nextConfig
