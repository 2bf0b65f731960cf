// Integration tests run the bundled action the way GitHub does: under Node 24.
// @ts-expect-error plain ESM script without types
import { node24 } from '../../scripts/node24.mjs'

export default function setup(): void {
  process.env['NODE24'] = (node24 as () => string)()
}
