import { UnavailableError, ValidationError } from '@argmax/errors'
import type { ModelSignature } from '@argmax/contracts'
import { LINEAR_SIGNATURE } from '@argmax/testkit/onnx-models'
import { describe, expect, it } from 'vitest'
import type { ForwardRequest } from '../../src/application/forwarder.ts'
import { MergedCalls, type MergeSettings } from '../../src/application/merged-calls.ts'
import type { Tensor } from '../../src/model-server/tensors/tensor.ts'

/** A one-or-more-row request of the linear model (y = 2·x1 + 3·x2). */
function request(id: string, x1: number[], x2: number[], signature = LINEAR_SIGNATURE) {
  return {
    model: 'm',
    version: 1,
    requestId: id,
    tensors: [
      { name: 'x1', datatype: 'FP32', shape: [x1.length], data: Float32Array.from(x1) },
      { name: 'x2', datatype: 'FP32', shape: [x2.length], data: Float32Array.from(x2) },
    ],
    outputs: ['y'],
    signature,
  } satisfies ForwardRequest
}

/**
 * The model server as a function of the call it gets: answers row by row, and holds every call
 * until the test releases it, so "a call in flight" is a state, not a timing.
 */
function harness(settings: MergeSettings = { maxRows: 256, inFlight: 1 }) {
  const calls: ForwardRequest[] = []
  const gates: Array<() => void> = []
  let refuse: (call: ForwardRequest) => Error | undefined = () => undefined
  let oneRow = false
  const merged = new MergedCalls(settings, async (call) => {
    calls.push(call)
    await new Promise<void>((resolve) => gates.push(resolve))
    const error = refuse(call)
    if (error) throw error
    const [x1, x2] = call.tensors.map((tensor) => tensor.data as Float32Array)
    const rows = oneRow ? 1 : x1!.length
    const y = new Float32Array(rows)
    for (let i = 0; i < rows; i++) y[i] = 2 * x1![i]! + 3 * x2![i]!
    return [{ name: 'y', datatype: 'FP32', shape: [rows, 1], data: y }] satisfies Tensor[]
  })
  return {
    merged,
    calls,
    refuseWhen(rule: typeof refuse) {
      refuse = rule
    },
    /** A model that does not answer row by row. */
    answerOneRow() {
      oneRow = true
    },
    async release() {
      for (const gate of gates.splice(0)) gate()
      await new Promise((resolve) => setImmediate(resolve))
    },
    ids: () => calls.map((call) => call.requestId),
  }
}

const ys = (outputs: Tensor[]) => [...(outputs[0]!.data as Float32Array)]

describe('MergedCalls (the gateway’s side of dynamic batching)', () => {
  it('sends a request at once while its version has a call slot free', async () => {
    const h = harness()
    const answer = h.merged.infer(request('a', [1], [1]))
    expect(h.ids()).toEqual(['a'])
    await h.release()
    expect(ys(await answer)).toEqual([5])
  })

  it('merges requests that arrive while every call is out into one call, and hands each its rows', async () => {
    const h = harness()
    const first = h.merged.infer(request('a', [1], [0]))
    const rest = [
      h.merged.infer(request('b', [1, 2], [0, 0])),
      h.merged.infer(request('c', [0], [1])),
      h.merged.infer(request('d', [10, 20, 30], [1, 1, 1])),
    ]
    expect(h.calls).toHaveLength(1)
    await h.release()
    expect(h.calls).toHaveLength(2)
    expect(h.calls[1]!.tensors[0]!.shape).toEqual([6])
    await h.release()
    expect(ys(await first)).toEqual([2])
    const answers = await Promise.all(rest)
    expect(answers.map(ys)).toEqual([[2, 4], [3], [23, 43, 63]])
    expect(answers.map((outputs) => outputs[0]!.shape)).toEqual([
      [2, 1],
      [1, 1],
      [3, 1],
    ])
  })

  it('keeps up to inFlight calls of a version out before merging', async () => {
    const h = harness({ maxRows: 256, inFlight: 2 })
    for (const id of ['a', 'b', 'c', 'd']) void h.merged.infer(request(id, [1], [1]))
    expect(h.ids()).toEqual(['a', 'b'])
    await h.release()
    // c and d queued while both were out: they left together when a slot came free.
    expect(h.ids()).toEqual(['a', 'b', 'c'])
    expect(h.calls[2]!.tensors[0]!.shape).toEqual([2])
  })

  it('never merges more than maxRows rows into one call', async () => {
    const h = harness({ maxRows: 3, inFlight: 1 })
    void h.merged.infer(request('busy', [1], [1]))
    for (const id of ['a', 'b', 'c', 'd']) void h.merged.infer(request(id, [1], [1]))
    await h.release()
    expect(h.calls.slice(1).map((call) => call.tensors[0]!.shape[0])).toEqual([3])
    await h.release()
    expect(h.calls.slice(2).map((call) => call.tensors[0]!.shape[0])).toEqual([1])
  })

  it('sends every request on its own when merging is off or the signature is not batched by rows', async () => {
    const off = harness({ maxRows: 0, inFlight: 1 })
    for (const id of ['a', 'b']) void off.merged.infer(request(id, [1], [1]))
    expect(off.ids()).toEqual(['a', 'b'])

    const fixed: ModelSignature = {
      ...LINEAR_SIGNATURE,
      inputs: LINEAR_SIGNATURE.inputs.map((input) => ({ ...input, shape: [1] })),
    }
    const h = harness()
    for (const id of ['a', 'b']) void h.merged.infer(request(id, [1], [1], fixed))
    expect(h.ids()).toEqual(['a', 'b'])
  })

  it('sends a refused merged call again request by request: only the culprit fails', async () => {
    const h = harness()
    void h.merged.infer(request('busy', [1], [1]))
    const good = h.merged.infer(request('good', [1], [1]))
    const bad = h.merged.infer(request('bad', [-1], [1]))
    const badFails = expect(bad).rejects.toThrow('negative x1')
    h.refuseWhen((call) =>
      [...(call.tensors[0]!.data as Float32Array)].some((x) => x < 0)
        ? new ValidationError('the model server refused the request: negative x1')
        : undefined,
    )
    for (let i = 0; i < 4; i++) await h.release()
    expect(ys(await good)).toEqual([5])
    await badFails
    expect(h.ids()).toEqual(['busy', 'good', 'good', 'bad'])
  })

  it('fails every merged request at once when the model servers are out, without a call each', async () => {
    const h = harness()
    const busy = h.merged.infer(request('busy', [1], [1]))
    const answers = ['a', 'b', 'c'].map((id) => h.merged.infer(request(id, [1], [1])))
    h.refuseWhen(() => new UnavailableError('no model server could answer'))
    const settled = Promise.allSettled([busy, ...answers])
    await h.release()
    await h.release()
    expect((await settled).map((r) => r.status)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ])
    expect(h.calls).toHaveLength(2)
  })

  it('refuses outputs that do not come back row by row', async () => {
    const h = harness()
    h.answerOneRow()
    void h.merged.infer(request('busy', [1], [1]))
    const answers = ['a', 'b'].map((id) => h.merged.infer(request(id, [1], [1])))
    const settled = Promise.allSettled(answers)
    await h.release()
    await h.release()
    for (const result of await settled) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError)
      expect(String((result as PromiseRejectedResult).reason)).toMatch(
        /answered 1 rows of output y for 2 merged rows: version 1 of model m does not answer row by row/,
      )
    }
  })
})
