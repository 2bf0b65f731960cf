// What untrusted text looks like once it reaches markdown: as it read, but inert.
import { describe, expect, test } from 'vitest'
import {
  JOINER as J,
  clip,
  codeSpan,
  fencedBlock,
  inline,
  plain,
  summaryText
} from '../../src/report/untrusted.js'

describe('inline', () => {
  test.each([
    ['ask @octocat', `ask @${J}octocat`],
    ['cc @acme/security-team', `cc @${J}acme/security-team`],
    ['mail ops@example.com', `mail ops@${J}example.com`],
    ['see https://evil.example/x', `see https:${J}//evil.example/x`],
    ['see (http://x.io)', `see (http:${J}//x.io)`],
    ['visit www.evil.example', `visit www${J}.evil.example`],
    ['fixes #12 and octo/todo#3, GH-4', `fixes \\#${J}12 and octo/todo\\#${J}3, GH-${J}4`],
    ['<!-- minikube-preview: other -->', '&lt;\\!-\u2060- minikube-preview: other --&gt;'],
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    [
      '**bold** [x](y) `c` | ~~s~~ $x$',
      '\\*\\*bold\\*\\* \\[x\\](y) \\`c\\` \\| \\~\\~s\\~\\~ \\$x\\$'
    ],
    ['line one\r\nline two\rthree', 'line one line two three'],
    ['\u001b[31mred\u001b[0m\u0000 \u202eevil', 'red evil']
  ])('%j → %j', (raw, shown) => {
    expect(inline(raw)).toBe(shown)
  })
})

describe('the other places', () => {
  test('a code span keeps the text as it was, but no marker, and survives backticks and pipes', () => {
    expect(codeSpan('img@sha256:abc')).toBe('`img@sha256:abc`')
    expect(codeSpan('a`b')).toBe('``a`b``')
    expect(codeSpan('`x')).toBe('`` `x ``')
    expect(codeSpan('a|b\\|c')).toBe(`\`a\\|b\\${J}\\|c\``)
    expect(codeSpan('<!-- minikube-preview: x -->')).toBe(`\`<!-${J}- minikube-preview: x -->\``)
    expect(codeSpan('\n')).toBe('')
  })

  test('<summary> text is escaped with entities, where backslashes would show', () => {
    expect(summaryText('logs "@octocat" <b> $5 #1')).toBe(
      `logs &quot;@${J}octocat&quot; &lt;b&gt; &#36;5 #${J}1`
    )
  })

  test('a fenced block is longer than any backtick run in it', () => {
    expect(fencedBlock('a\n````\nb\n')).toBe('`````text\na\n````\nb\n`````')
    expect(fencedBlock('plain')).toBe('```text\nplain\n```')
  })

  test('plain breaks up every HTML comment opener and nothing else', () => {
    expect(plain('x <!--a--> <!-- minikube-preview: y --> @me')).toBe(
      `x <!-${J}-a--> <!-${J}- minikube-preview: y --> @me`
    )
  })

  test('clip never splits a surrogate pair', () => {
    expect(clip('ab🚀cd', 4)).toBe('ab…')
    expect(clip('abc', 3)).toBe('abc')
  })
})
