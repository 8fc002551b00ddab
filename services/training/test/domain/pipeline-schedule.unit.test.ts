import { describe, expect, it } from 'vitest'
import { latestDueSlot } from '../../src/application/pipeline-schedule.ts'

describe('a pipeline schedule', () => {
  const after = new Date('2026-03-02T02:00:00.000Z')

  it('fires the latest slot due since the last one, none before it is due', () => {
    expect(latestDueSlot('0 3 * * *', after, new Date('2026-03-02T02:59:59.000Z'))).toBeNull()
    expect(latestDueSlot('0 3 * * *', after, new Date('2026-03-02T03:00:00.000Z'))).toEqual(
      new Date('2026-03-02T03:00:00.000Z'),
    )
    // Three days down: one run for the latest slot, not three.
    expect(latestDueSlot('0 3 * * *', after, new Date('2026-03-05T04:00:00.000Z'))).toEqual(
      new Date('2026-03-05T03:00:00.000Z'),
    )
  })

  it('a slot already fired does not fire again', () => {
    const fired = new Date('2026-03-02T03:00:00.000Z')
    expect(latestDueSlot('0 3 * * *', fired, new Date('2026-03-02T10:00:00.000Z'))).toBeNull()
  })

  it('an expression that does not parse never fires', () => {
    expect(latestDueSlot('61 * * * *', after, new Date('2026-03-09T00:00:00.000Z'))).toBeNull()
  })
})
