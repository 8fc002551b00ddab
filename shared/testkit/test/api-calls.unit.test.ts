import { describe, expect, it } from 'vitest'
import { injectedApi, type Injectable } from '../src/api-calls.ts'

/** An app that answers every request with `body` under `contentType`, and records the request. */
function answering(body: string, contentType: string) {
  const seen: Array<Parameters<Injectable['inject']>[0]> = []
  const app: Injectable = {
    inject: async (request) => {
      seen.push(request)
      return { statusCode: 200, body, headers: { 'content-type': contentType } }
    },
  }
  return { app, seen }
}

describe('injectedApi', () => {
  it('sends the bearer token and body, and parses a JSON answer (problem+json too)', async () => {
    const { app, seen } = answering('{"ok":true}', 'application/problem+json; charset=utf-8')
    const answer = await injectedApi(app)('POST', '/v1/x', 'tok', { a: 1 }, { 'x-y': 'z' })
    expect(answer).toMatchObject({ status: 200, body: { ok: true } })
    expect(seen[0]).toEqual({
      method: 'POST',
      url: '/v1/x',
      headers: { authorization: 'Bearer tok', 'x-y': 'z' },
      payload: { a: 1 },
    })
  })

  it('keeps a text answer as text, and sends no authorization without a token', async () => {
    const { app, seen } = answering('# HELP up 1', 'text/plain; version=0.0.4')
    expect((await injectedApi(app)('GET', '/metrics', null)).body).toBe('# HELP up 1')
    expect(seen[0]!.headers).toEqual({})
  })

  it('fails on malformed JSON under a JSON content type, rather than hand back its text', async () => {
    const { app } = answering('{"ok":', 'application/json')
    await expect(injectedApi(app)('GET', '/v1/x', 'tok')).rejects.toThrow(SyntaxError)
  })
})
