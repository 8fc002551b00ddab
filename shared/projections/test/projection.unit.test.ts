import { describe, expect, it } from 'vitest'
import { selectorFor, subjectMatches } from '../src/projection.ts'

describe('subjectMatches', () => {
  it.each([
    ['training.run.1', 'training.run.1', true],
    ['training.run.*', 'training.run.1', true],
    ['training.*.1', 'training.run.1', true],
    ['training.>', 'training.run.1', true],
    ['>', 'training', true],
    ['training.run.*', 'training.run', false],
    ['training.run.*', 'training.run.1.x', false],
    ['training.>', 'training', false],
    ['training.run', 'training.run.1', false],
    ['dataset.>', 'training.run.1', false],
  ])('%s against %s is %s', (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected)
  })
})

describe('selectorFor', () => {
  it('wants every subject without filters and only the handled types', () => {
    const selector = selectorFor({ name: 'p', handles: ['A', 'B'] })
    expect(selector.wantsSubject('anything.at.all')).toBe(true)
    expect(selector.wantsType('A')).toBe(true)
    expect(selector.wantsType('C')).toBe(false)
  })

  it('wants a subject when any filter matches', () => {
    const selector = selectorFor({ name: 'p', handles: [], subjects: ['a.x.*', 'b.>'] })
    expect(selector.wantsSubject('a.x.1')).toBe(true)
    expect(selector.wantsSubject('b.y.z')).toBe(true)
    expect(selector.wantsSubject('a.y.1')).toBe(false)
  })
})
