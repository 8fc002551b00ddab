import { describe, expect, it } from 'vitest'
import { eventually } from '../src/eventually.ts'

describe('eventually', () => {
  it('polls until the probe has a value, through its errors', async () => {
    let calls = 0
    const value = await eventually(async () => {
      calls++
      if (calls === 1) throw new Error('not there yet')
      return calls === 3 ? 'ready' : undefined
    }, 5_000)
    expect(value).toBe('ready')
    expect(calls).toBe(3)
  })

  it('fails naming what it waited for and the last error', async () => {
    await expect(
      eventually(
        async () => {
          throw new Error('relation does not exist')
        },
        200,
        'the labels joined',
      ),
    ).rejects.toThrow('the labels joined not reached in 200 ms: Error: relation does not exist')
  })

  it('fails at its deadline when a probe never answers, rather than waiting with it', async () => {
    const never = new Promise<undefined>(() => undefined)
    await expect(eventually(() => never, 200, 'the parked entry')).rejects.toThrow(
      'the parked entry not reached in 200 ms (the last probe did not answer)',
    )
  })
})
