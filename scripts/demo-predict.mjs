// The demo's last step (scripts/demo.sh): predicts the IMDB rating of a few films with the
// released movies model, over gRPC (`argmax predict`) and over REST (`POST
// /v1/models/movies:predict` through the edge), prints predicted against actual, then counts
// those predictions in ClickHouse as the read-only analyst user.
//
//   node scripts/demo-predict.mjs <movies.jsonl> <work dir>
//
// Reads the local stack's state (.argmax/run/state.json) and the token `argmax up` stored.
// Exits 0 with a sentence when nothing serves the movies model yet.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { inputsOf } from './demo-rows.mjs'
import { localStack, sleep, waitServing } from './demo-stack.mjs'

const FILMS = 5
const MODEL = 'movies'
const TARGET = 'IMDB Rating'

const [moviesFile, workDir] = process.argv.slice(2)
if (!moviesFile || !workDir) {
  console.error('usage: node scripts/demo-predict.mjs <movies.jsonl> <work dir>')
  process.exit(64)
}
const stack = localStack()
const { edge, auth } = stack

if (!(await waitServing(stack, MODEL))) {
  console.log(`The gateway does not serve the ${MODEL} model (no release, or still loading).`)
  process.exit(0)
}
const metadataAnswer = await fetch(`${edge}/v2/models/${MODEL}`, { headers: auth })
if (!metadataAnswer.ok) throw new Error(`GET /v2/models/${MODEL}: HTTP ${metadataAnswer.status}`)
const metadata = await metadataAnswer.json()

// The model takes its feature columns by name and refuses other keys: keep only those.
const films = readFileSync(moviesFile, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line))
  .filter((film) => typeof film[TARGET] === 'number' && film['Title'])
  // A fixed, spread-out choice, so a second run predicts the same films.
  .filter((_, i, all) => i % Math.floor(all.length / FILMS) === 0)
  .slice(0, FILMS)
const instances = films.map((film) => inputsOf(metadata, film))
const rowsFile = join(workDir, 'predict.jsonl')
writeFileSync(rowsFile, instances.map((row) => JSON.stringify(row)).join('\n') + '\n')

// gRPC: the CLI speaks the v2 protocol to the gateway's gRPC port.
const cli = resolve('cli/bin/argmax')
const grpc = JSON.parse(
  execFileSync(cli, ['predict', MODEL, '--input', rowsFile, '--json'], { encoding: 'utf8' }),
)
// REST: the records form, through the edge.
const restAnswer = await fetch(`${edge}/v1/models/${MODEL}:predict`, {
  method: 'POST',
  headers: { ...auth, 'content-type': 'application/json' },
  body: JSON.stringify({ instances }),
})
const rest = await restAnswer.json()
if (!restAnswer.ok) throw new Error(`POST /v1/models/${MODEL}:predict: ${JSON.stringify(rest)}`)

const value = (prediction) => (typeof prediction === 'number' ? prediction.toFixed(2) : '?')
console.log(`model ${MODEL} version ${grpc.version} (gRPC) / ${rest.version} (REST)`)
console.log(['ACTUAL', 'gRPC', 'REST', 'FILM'].join('\t'))
films.forEach((film, i) => {
  console.log(
    [
      film[TARGET].toFixed(1),
      value(grpc.predictions[i]?.prediction),
      value(rest.predictions[i]),
      film['Title'],
    ].join('\t'),
  )
})

// The sink writes the log to ClickHouse in batches: wait for these ids, read as the analyst.
const ids = [...grpc.predictions.map((row) => row.predictionId), ...rest.predictionIds]
const e = stack.endpoints
const query = `SELECT count() FROM ${e.clickhouseDatabase}.inference_log WHERE prediction_id IN (${ids
  .map((id) => `'${id.replace(/[^A-Za-z0-9_.:-]/g, '')}'`)
  .join(', ')})`
let count = 0
for (let i = 0; i < 60 && count < ids.length; i++) {
  // Credentials as URL parameters: what every ClickHouse version's HTTP interface reads.
  const url = new URL(e.clickhouseUrl)
  url.searchParams.set('user', e.clickhouseAnalystUser)
  url.searchParams.set('password', e.clickhouseAnalystPassword)
  url.searchParams.set('query', query)
  const answer = await fetch(url)
  if (!answer.ok) throw new Error(`ClickHouse: HTTP ${answer.status} ${await answer.text()}`)
  count = Number((await answer.text()).trim())
  if (count < ids.length) await sleep(500)
}
console.log(
  `${count} of these ${ids.length} predictions are in ClickHouse's ${e.clickhouseDatabase}.inference_log (read as ${e.clickhouseAnalystUser})`,
)
if (count !== ids.length) process.exitCode = 1
