import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunView } from '../../src/api/contract.ts'
import { createRunTokens } from '../../src/application/run-tokens.ts'
import { moviesRun, startTrainingHarness, type TrainingHarness } from '../support/harness.ts'

/**
 * The job-facing API trainers call, behind run-scoped tokens: accepted on the job routes of
 * their own run and attempt only, refused by every other route (they are no platform token),
 * refused by the dataset service; platform tokens are refused on the job routes.
 */
describe('the job API and run-scoped tokens', { timeout: 300_000 }, () => {
  let h: TrainingHarness
  let runId: string
  let otherRunId: string
  let datasetId: string
  let versionId: string
  let token: string

  beforeAll(async () => {
    h = await startTrainingHarness({ trainer: 'scripted' })
    h.setMode('sleep')
    ;({ datasetId, versionId } = await h.uploadVersion(h.tokens.alice))
    const submit = async (user: 'alice' | 'bob', version: string) => {
      const response = await h.submit(h.tokens[user], moviesRun(version))
      expect(response.status).toBe(201)
      return (response.body['run'] as RunView).id
    }
    runId = await submit('alice', versionId)
    const bobs = await h.uploadVersion(h.tokens.bob, undefined, 'bobs')
    otherRunId = await submit('bob', bobs.versionId)
    await h.waitForRun(runId, (r) => r.status === 'TRAINING')
    token = await h.training.deps.runTokens.mint({
      runId,
      attempt: 1,
      expiresAt: new Date(Date.now() + 3600_000),
    })
  })
  afterAll(() => h?.stop())

  const beat = { attempt: 1, iteration: 3, totalIterations: 10, metrics: { loss: 0.5 } }

  it('takes heartbeats of its own run and attempt, with the token only', async () => {
    const ok = await h.call('POST', `/v1/runs/${runId}/heartbeats`, token, beat)
    expect(ok.status).toBe(204)
    expect(
      (await h.call('POST', `/v1/runs/${runId}/heartbeats`, token, { ...beat, attempt: 2 })).status,
    ).toBe(400)
    expect(
      (await h.call('POST', `/v1/runs/${runId}/heartbeats`, token, { ...beat, metrics: 'x' }))
        .status,
    ).toBe(400)
    // Another run's routes: 403.
    expect((await h.call('POST', `/v1/runs/${otherRunId}/heartbeats`, token, beat)).status).toBe(
      403,
    )
    expect((await h.call('GET', `/v1/runs/${otherRunId}/checkpoint`, token)).status).toBe(403)
    // The run's owner, with a platform token, is no trainer: 401 on the job routes.
    const owner = await h.call('POST', `/v1/runs/${runId}/heartbeats`, h.tokens.alice, beat)
    expect(owner.status).toBe(401)
    expect(owner.headers['www-authenticate']).toContain('invalid_token')
    expect((await h.call('POST', `/v1/runs/${runId}/heartbeats`, '', beat)).status).toBe(401)
    // A token minted two hours ago (it lives at least a minute) has expired.
    const past = createRunTokens(
      h.config.training.runTokenSecret,
      () => new Date(Date.now() - 7200_000),
    )
    const expired = await past.mint({
      runId,
      attempt: 1,
      expiresAt: new Date(Date.now() - 7200_000),
    })
    expect((await h.call('POST', `/v1/runs/${runId}/heartbeats`, expired, beat)).status).toBe(401)
    // Signed with another secret: 401.
    const forged = await createRunTokens('x'.repeat(43)).mint({
      runId,
      attempt: 1,
      expiresAt: new Date(Date.now() + 3600_000),
    })
    expect((await h.call('POST', `/v1/runs/${runId}/heartbeats`, forged, beat)).status).toBe(401)
  })

  it('cannot read runs, list them, act on them, or read datasets: it is not a platform token', async () => {
    for (const [method, url] of [
      ['GET', `/v1/runs/${runId}`],
      ['GET', `/v1/runs/${otherRunId}`],
      ['GET', '/v1/runs'],
      ['GET', `/v1/runs/${runId}/logs`],
      ['GET', `/v1/runs/${runId}/metrics`],
      ['POST', `/v1/runs/${runId}/cancel`],
      ['GET', '/v1/runs/quotas/alice'],
    ] as const) {
      expect((await h.call(method, url, token)).status, `${method} ${url}`).toBe(401)
    }
    expect((await h.submit(token, moviesRun(versionId))).status).toBe(401)
    for (const url of [
      '/v1/datasets',
      `/v1/datasets/${datasetId}`,
      `/v1/datasets/${datasetId}/versions/${versionId}/download`,
    ]) {
      const response = await h.dataset.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
      })
      expect(response.statusCode, url).toBe(401)
    }
  })

  it('keeps the run’s checkpoint across attempts: 404 until one is stored, then its bytes', async () => {
    const fresh = await h.call('GET', `/v1/runs/${runId}/checkpoint`, token)
    expect(fresh.status).toBe(404)
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251))
    const put = await h.training.app.inject({
      method: 'PUT',
      url: `/v1/runs/${runId}/checkpoint`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      payload: bytes,
    })
    expect(put.statusCode, put.body).toBe(204)
    const got = await h.training.app.inject({
      method: 'GET',
      url: `/v1/runs/${runId}/checkpoint`,
      headers: { authorization: `Bearer ${token}` },
    })
    expect(got.statusCode).toBe(200)
    expect(Buffer.compare(got.rawPayload, bytes)).toBe(0)
  })

  it('streams artifacts of its own attempt; refuses another attempt, bad names, a missing or too large length before reading', async () => {
    const put = (url: string, headers: Record<string, string> = {}) =>
      h.training.app.inject({
        method: 'PUT',
        url,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...headers,
        },
        payload: '{"a":1}',
      })
    expect((await put(`/v1/runs/${runId}/attempts/1/artifacts/metrics.json`)).statusCode).toBe(204)
    expect((await put(`/v1/runs/${runId}/attempts/2/artifacts/metrics.json`)).statusCode).toBe(403)
    expect((await put(`/v1/runs/${runId}/attempts/1/artifacts/.hidden`)).statusCode).toBe(400)

    // Over HTTP for real: the answer comes before a byte of the body is sent.
    const url = new URL(`${h.training.url}/v1/runs/${runId}/attempts/1/artifacts/model.onnx`)
    const ask = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          url,
          { method: 'PUT', headers: { authorization: `Bearer ${token}`, ...headers } },
          (res) => {
            let body = ''
            res.on('data', (chunk: Buffer) => (body += chunk.toString()))
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
          },
        )
        req.on('error', reject)
        req.flushHeaders()
        // The body is never written: a server that waited for it would hang here.
        if (!('content-length' in headers)) req.write('x')
      })
    const tooLarge = await ask({ 'content-length': String(10 * 1024 * 1024 * 1024) })
    expect(tooLarge.status).toBe(413)
    expect(tooLarge.body).toContain('artifact')
    const unknownLength = await ask({ 'transfer-encoding': 'chunked' })
    expect(unknownLength.status).toBe(411)
  })

  it('refuses writes from an attempt that is no longer running', async () => {
    expect((await h.call('POST', `/v1/runs/${runId}/cancel`, h.tokens.alice)).status).toBe(200)
    const late = await h.call('POST', `/v1/runs/${runId}/heartbeats`, token, beat)
    expect(late.status).toBe(409)
  })
})
