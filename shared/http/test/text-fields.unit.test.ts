import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { unstorableTextIssues } from '../src/text-fields.ts'

const MESSAGE = 'must not contain the character U+0000 (NUL)'

describe('unstorableTextIssues', () => {
  it('names a lone surrogate, not a pair', () => {
    expect(unstorableTextIssues({ a: 'x\ud800', b: ['\udc00y'], c: '🙂' }, '')).toEqual([
      { field: '/a', message: 'must be well-formed Unicode (it holds a lone surrogate)' },
      { field: '/b/0', message: 'must be well-formed Unicode (it holds a lone surrogate)' },
    ])
  })

  it('finds nothing in text without U+0000, nor in numbers, booleans and nulls', () => {
    expect(unstorableTextIssues({ a: 'x', b: [1, true, null, { c: 'é' }] }, '')).toEqual([])
    expect(unstorableTextIssues(undefined, 'query')).toEqual([])
  })

  it('names each string that holds one by its JSON pointer, in document order', () => {
    const body = { name: 'a\u0000', tags: ['ok', '\u0000'], params: { 'a/b~c': 'x\u0000y' } }
    expect(unstorableTextIssues(body, '')).toEqual([
      { field: '/name', message: MESSAGE },
      { field: '/tags/1', message: MESSAGE },
      { field: '/params/a~1b~0c', message: MESSAGE },
    ])
    expect(unstorableTextIssues('\u0000', 'path')).toEqual([{ field: 'path', message: MESSAGE }])
    expect(unstorableTextIssues('\u0000', '')).toEqual([{ field: '/', message: MESSAGE }])
  })

  it('names the object whose key holds one', () => {
    expect(unstorableTextIssues({ params: { 'k\u0000': 1 } }, '')).toEqual([
      {
        field: '/params',
        message: 'its key "k\uFFFD" must not contain the character U+0000 (NUL)',
      },
    ])
  })

  it('walks a deeply nested body without overflowing the stack, and stops at the limit', () => {
    let deep: unknown = '\u0000'
    for (let i = 0; i < 100_000; i++) deep = [deep]
    expect(unstorableTextIssues(deep, '')).toHaveLength(1)
    const many = Array.from({ length: 100 }, () => '\u0000')
    expect(unstorableTextIssues(many, '', 20)).toHaveLength(20)
  })
})

describe('unstorableTextIssues on what is not parsed text', () => {
  it('walks objects with a bare prototype (fastify query and params), not buffers or streams', () => {
    const query = Object.create(Object.create(null) as object) as Record<string, unknown>
    query['tag'] = ['\u0000']
    expect(unstorableTextIssues(query, 'query')).toEqual([
      { field: 'query/tag/0', message: MESSAGE },
    ])
    expect(unstorableTextIssues(Buffer.from([0, 0]), '')).toEqual([])
    expect(unstorableTextIssues(Readable.from(['\u0000']), '')).toEqual([])
  })
})
