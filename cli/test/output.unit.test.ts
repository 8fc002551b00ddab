import { afterEach, describe, expect, it, vi } from 'vitest'
import { commandOutput } from '../src/output.ts'

describe('commandOutput', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  const printed = () => {
    const lines: string[] = []
    vi.spyOn(console, 'log').mockImplementation((line: string) => lines.push(line))
    return lines
  }

  it('prints the human form, and a listing page ends with the flag for the next page', () => {
    const lines = printed()
    const { printPage } = commandOutput({ json: false })
    printPage({}, { items: ['a', 'b'], nextCursor: 'c2' }, (items) => items.join('\n'))
    printPage({}, { items: ['z'], nextCursor: null }, (items) => items.join('\n'))
    expect(lines).toEqual(['a\nb\n(more: --cursor c2)', 'z'])
  })

  it('prints JSON for --json, or for every command when the context asks (ARGMAX_JSON)', () => {
    const lines = printed()
    const page = { items: ['a'], nextCursor: 'c2' }
    commandOutput({ json: false }).printPage({ json: true }, page, () => 'human')
    commandOutput({ json: true }).print({}, { id: 1 }, () => 'human')
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([page, { id: 1 }])
  })

  it('reads the context when a command runs, not when the output is made', () => {
    const ctx = { json: false }
    const { asJson } = commandOutput(ctx)
    ctx.json = true
    expect(asJson({})).toBe(true)
  })
})
