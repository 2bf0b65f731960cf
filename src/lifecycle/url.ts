/** The placeholders a `url` template may use, in the order the README lists them. */
export const URL_PLACEHOLDERS = ['number', 'branch', 'sha', 'namespace', 'release'] as const
