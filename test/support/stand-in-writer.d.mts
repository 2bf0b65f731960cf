// The types of stand-in-writer.mjs, loosely: test/support/stand-in.ts gives the precise ones.
export interface WrittenStandIn {
  path: string
  dir: string
  name: string
  calls(): unknown[]
  argvs(): string[][]
}

export function writeStandIn(
  dir: string,
  name: string,
  rules: readonly { match: readonly (string | RegExp)[] }[],
  options?: object
): WrittenStandIn
