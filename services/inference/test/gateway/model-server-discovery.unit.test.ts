import { describe, expect, it } from 'vitest'
import { createDiscovery } from '../../src/application/model-server-discovery.ts'
import { inferenceSettings } from '../../src/config.ts'

const silent = { warn: () => {} }

describe('model-server discovery', () => {
  it('keeps host:port entries and expands dns:name:port to every address, sorted', async () => {
    const discovery = createDiscovery(
      ['10.0.0.9:8001', 'dns:model-server:8001', 'dns:v6:9000'],
      1_000,
      silent,
      async (host) => (host === 'model-server' ? ['10.0.0.2', '10.0.0.1'] : ['fd00::1']),
    )
    expect(await discovery.resolve()).toEqual([
      '10.0.0.1:8001',
      '10.0.0.2:8001',
      '10.0.0.9:8001',
      '[fd00::1]:9000',
    ])
  })

  it('keeps a name’s last addresses when a lookup fails, and follows it when it answers again', async () => {
    const answers: (string[] | Error)[] = [
      ['10.0.0.1', '10.0.0.2'],
      new Error('EAI_AGAIN'),
      ['10.0.0.3'],
    ]
    const warnings: unknown[] = []
    const discovery = createDiscovery(
      ['dns:model-server:8001', 'dns:other:8001'],
      1_000,
      { warn: (fields) => warnings.push(fields) },
      async (host) => {
        if (host === 'other') return ['10.0.1.1']
        const answer = answers.shift()!
        if (answer instanceof Error) throw answer
        return answer
      },
    )
    expect(await discovery.resolve()).toEqual(['10.0.0.1:8001', '10.0.0.2:8001', '10.0.1.1:8001'])
    expect(await discovery.resolve()).toEqual(['10.0.0.1:8001', '10.0.0.2:8001', '10.0.1.1:8001'])
    expect(warnings).toHaveLength(1)
    expect(await discovery.resolve()).toEqual(['10.0.0.3:8001', '10.0.1.1:8001'])
  })

  it('accepts dns:name:port in ARGMAX_MODEL_SERVERS and names a malformed entry', () => {
    const base = {
      ARGMAX_PREDICTION_ID_SECRET: 'a-prediction-id-secret-of-32-chars!!',
      ARGMAX_INFERENCE_GRPC_PORT: '0',
    }
    const ok = inferenceSettings.safeParse({
      ...base,
      ARGMAX_MODEL_SERVERS: 'dns:model-server:8001, 127.0.0.1:8002',
    })
    expect(ok.success && ok.data.modelServers).toEqual(['dns:model-server:8001', '127.0.0.1:8002'])
    const bad = inferenceSettings.safeParse({ ...base, ARGMAX_MODEL_SERVERS: 'dns:model-server' })
    expect(bad.success).toBe(false)
    expect(JSON.stringify(bad.error?.issues)).toContain(
      '\\"dns:model-server\\" is not host:port or dns:name:port',
    )
  })
})
