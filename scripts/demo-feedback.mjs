// The demo's feedback step (scripts/demo.sh, after the predictions): predicts the IMDB rating of
// 300 films with the released movies model through the edge, sends what really happened (each
// film's actual rating) as ground truth to POST /v1/feedback, waits until ClickHouse has joined
// the labels to the logged predictions, then prints the model's live quality per version
// (`argmax quality movies --drift`) and a summary: live MAE and R² against the test MAE, and the
// inputs that drift most from the training dataset's profile.
//
//   node scripts/demo-feedback.mjs <movies.jsonl>
//
// Reads the local stack's state (.argmax/run/state.json) and the token `argmax up` stored.
// Exits 0 with a sentence when nothing serves the movies model yet. A second run adds 300 more
// predictions and their labels (quality then covers both runs).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { inputsOf } from './demo-rows.mjs'
import { localStack, sleep, waitServing } from './demo-stack.mjs'

const FILMS = 300
const MODEL = 'movies'
const TARGET = 'IMDB Rating'

const [moviesFile] = process.argv.slice(2)
if (!moviesFile) {
  console.error('usage: node scripts/demo-feedback.mjs <movies.jsonl>')
  process.exit(64)
}
const stack = localStack()
const { edge, auth } = stack

async function call(method, path, body, headers = {}) {
  const answer = await fetch(`${edge}${path}`, {
    method,
    headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await answer.text()
  const json = text ? JSON.parse(text) : undefined
  if (!answer.ok) throw new Error(`${method} ${path}: HTTP ${answer.status} ${text}`)
  return json
}

if (!(await waitServing(stack, MODEL))) {
  console.log(
    `The gateway does not serve the ${MODEL} model: no predictions to send ground truth for.`,
  )
  process.exit(0)
}
const metadata = await call('GET', `/v2/models/${MODEL}`)

// Films with a known rating, spread over the file; the model takes its feature columns by name.
const films = readFileSync(moviesFile, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line))
  .filter((film) => typeof film[TARGET] === 'number')
const chosen = films.filter((_, i) => i % Math.floor(films.length / FILMS) === 0).slice(0, FILMS)
const instances = chosen.map((film) => inputsOf(metadata, film))

const qualityOf = () => call('GET', `/v1/quality/${MODEL}?window=1h`)
const labelledNow = (view) => view.versions.reduce((sum, v) => sum + v.labelled, 0)
const before = labelledNow(await qualityOf())

// Predict in batches through the edge's REST route; every answer carries its prediction ids.
const labels = []
for (let i = 0; i < instances.length; i += 100) {
  const answer = await call('POST', `/v1/models/${MODEL}:predict`, {
    instances: instances.slice(i, i + 100),
  })
  answer.predictionIds.forEach((predictionId, j) =>
    labels.push({ predictionId, value: chosen[i + j][TARGET] }),
  )
}
console.log(`predicted the IMDB rating of ${labels.length} films`)

// Ground truth: the ratings as they really are, keyed by prediction id. The Idempotency-Key
// makes a retry of this very request harmless.
const key = createHash('sha256')
  .update(labels.map((l) => l.predictionId).join(','))
  .digest('hex')
const accepted = await call('POST', '/v1/feedback', { labels }, { 'idempotency-key': key })
console.log(
  `sent ground truth: ${accepted.accepted} labels accepted (request ${accepted.requestId})`,
)

// The sinks write predictions and labels to ClickHouse in batches: wait until quality counts them.
let view
for (let i = 0; i < 120; i++) {
  view = await qualityOf()
  if (labelledNow(view) >= before + labels.length) break
  await sleep(500)
}
if (labelledNow(view) < before + labels.length) {
  console.error(`only ${labelledNow(view) - before} of ${labels.length} labels reached ClickHouse`)
  process.exitCode = 1
}

console.log()
execFileSync(resolve('cli/bin/argmax'), ['quality', MODEL, '--window', '1h', '--drift'], {
  stdio: 'inherit',
})

const drift = await call('GET', `/v1/quality/${MODEL}/drift?window=1h`)
const fmt = (x) => (typeof x === 'number' ? x.toFixed(3) : 'n/a')
console.log()
for (const v of view.versions.filter((v) => v.labelled > 0)) {
  const top = (drift.versions.find((d) => d.version === v.version)?.features ?? [])
    .filter((f) => f.psi !== null)
    .sort((a, b) => b.psi - a.psi)
    .slice(0, 3)
    .map((f) => `${f.feature} (PSI ${f.psi.toFixed(3)})`)
  console.log(
    `${MODEL} v${v.version}: live MAE ${fmt(v.metrics.mae)} (test ${fmt(v.testMetrics.mae)}), R² ${fmt(
      v.metrics.r2,
    )} over ${v.labelled} labelled predictions; top drifting inputs: ${top.join(', ') || 'none measured'}`,
  )
}
