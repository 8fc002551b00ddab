// The running local stack as the demo's scripts reach it: the edge and the endpoints of its parts
// from its state file (.argmax/run/state.json, or $ARGMAX_DATA_DIR's) and the token `argmax up`
// stored (or $ARGMAX_TOKEN).
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms))

export function localStack() {
  const dataDir = resolve(process.env.ARGMAX_DATA_DIR ?? '.argmax')
  const state = JSON.parse(readFileSync(join(dataDir, 'run', 'state.json'), 'utf8'))
  const token = process.env.ARGMAX_TOKEN || readFileSync(join(dataDir, 'token'), 'utf8').trim()
  return {
    edge: state.edgeUrl,
    endpoints: state.endpoints,
    auth: { authorization: `Bearer ${token}` },
  }
}

// Waits up to a minute for the gateway to serve `model` (it loads a released version on the
// model servers before it routes to it); false when it does not: no release, an unknown model
// (no use waiting) or still loading.
export async function waitServing({ edge, auth }, model) {
  for (let i = 0; i < 120; i++) {
    const answer = await fetch(`${edge}/v2/models/${model}/ready`, { headers: auth })
    if (answer.status === 200) return true
    if (answer.status !== 503) return false
    await sleep(500)
  }
  return false
}
