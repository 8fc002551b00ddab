/**
 * Validation benchmark: the dataset validator (SHA-256 + size + CSV parse + type inference +
 * profile, one streaming pass) against two baselines over the same generated CSV on disk:
 * - a plain streaming read + SHA-256 of the file (the floor: reading and hashing only);
 * - a bare csv-parse pass (its stream API, records counted and dropped): what parsing with
 *   the reference CSV parser alone costs.
 * Ours runs twice, each in a child process so that its peak RSS (worker threads included) is
 * its own (`process.resourceUsage()`): on one thread (`workers: 0`), and with its default
 * worker threads (one per core).
 *
 *   npx tsx bench/validation.bench.ts [--size-mb 2048] [--runs 3]
 *
 * MB are MiB. The generated file is deleted at the end. A table on stderr, then ONE line of
 * JSON on stdout.
 */
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { execFile } from 'node:child_process'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { parse } from 'csv-parse'
import { validateAndProfile } from '../services/dataset/src/validation/index.ts'
import { syntheticCsvChunks } from '../services/dataset/test/validation/synthetic-csv.ts'

const MB = 1024 * 1024

/** The child: validate the file, print one JSON line with its own figures. */
async function child(file: string, size: number, sha256: string, workers: string): Promise<void> {
  const started = performance.now()
  const result = await validateAndProfile(createReadStream(file), {
    format: 'csv',
    declaredSize: size,
    declaredSha256: sha256,
    ...(workers === 'default' ? {} : { workers: Number(workers) }),
  })
  const seconds = (performance.now() - started) / 1000
  console.log(
    JSON.stringify({
      ok: result.ok,
      rowCount: result.ok ? result.rowCount : null,
      errors: result.ok ? [] : result.errors,
      seconds,
      // maxRSS is in KiB.
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  )
}

async function generate(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file)
  for (const chunk of syntheticCsvChunks(bytes, MB)) {
    if (!out.write(chunk)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return statSync(file).size
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now()
  const value = await run()
  return { value, seconds: (performance.now() - started) / 1000 }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function csvParseRecords(file: string): Promise<number> {
  const parser = createReadStream(file).pipe(parse({ relax_column_count: true }))
  let records = 0
  for await (const _record of parser) records++
  return records
}

async function runChild(file: string, size: number, sha256: string, workers: string) {
  const self = fileURLToPath(import.meta.url)
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...process.execArgv, self, '--child', file, String(size), sha256, workers],
    { maxBuffer: 16 * MB },
  )
  const last = stdout.trim().split('\n').at(-1)!
  return JSON.parse(last) as {
    ok: boolean
    rowCount: number | null
    errors: unknown[]
    seconds: number
    peakRssMb: number
  }
}

const round = (x: number) => Math.round(x * 10) / 10

type ChildRun = Awaited<ReturnType<typeof runChild>>

function medianRun(runs: ChildRun[]): ChildRun {
  const bySeconds = [...runs].sort((a, b) => a.seconds - b.seconds)
  const median = bySeconds[Math.floor(bySeconds.length / 2)]!
  return { ...median, peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)) }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'size-mb': { type: 'string', default: '2048' },
      runs: { type: 'string', default: '3' },
      child: { type: 'boolean' },
    },
  })
  if (values.child) {
    const [file, size, sha256, workers] = positionals
    await child(file!, Number(size), sha256!, workers!)
    return
  }
  const sizeMb = Number(values['size-mb'])
  if (!(sizeMb > 0)) throw new Error('--size-mb must be a positive number')
  const file = join(tmpdir(), `argmax-validation-bench-${process.pid}.csv`)
  const cleanup = () => rmSync(file, { force: true })
  process.once('SIGINT', () => {
    cleanup()
    process.exit(130)
  })
  try {
    console.error(`generating ${sizeMb} MB of CSV in ${file}`)
    // The generator stops at the first chunk past the size, so the file is a little larger.
    const size = await generate(file, sizeMb * MB - MB / 2)
    const fileMb = size / MB

    const hashed = await timed(() => sha256Of(file))
    const sha256MbS = fileMb / hashed.seconds
    console.error(`baseline read + sha256: ${round(sha256MbS)} MB/s`)

    const parsed = await timed(() => csvParseRecords(file))
    const csvParseMbS = fileMb / parsed.seconds
    console.error(`baseline csv-parse:     ${round(csvParseMbS)} MB/s (${parsed.value} records)`)

    // Each variant `--runs` times, alternating; the median time and the largest peak RSS.
    const runs = Math.max(1, Number(values.runs))
    const oneThreadRuns = []
    const oursRuns = []
    for (let i = 0; i < runs; i++) {
      oneThreadRuns.push(await runChild(file, size, hashed.value, '0'))
      oursRuns.push(await runChild(file, size, hashed.value, 'default'))
    }
    for (const run of [...oneThreadRuns, ...oursRuns]) {
      if (!run.ok) throw new Error(`the validator rejected the file: ${JSON.stringify(run.errors)}`)
    }
    const oneThread = medianRun(oneThreadRuns)
    const ours = medianRun(oursRuns)
    const oneThreadMbS = fileMb / oneThread.seconds
    const oursMbS = fileMb / ours.seconds
    console.error(
      `ours on one thread:      ${round(oneThreadMbS)} MB/s, peak RSS ${round(oneThread.peakRssMb)} MB`,
    )
    console.error(
      `ours, ${availableParallelism()} worker threads: ${round(oursMbS)} MB/s, ${ours.rowCount} rows, ` +
        `peak RSS ${round(ours.peakRssMb)} MB`,
    )
    console.error(
      `ratios: ours / csv-parse = ${round(oursMbS / csvParseMbS)}, ` +
        `ours / read+sha256 = ${round((oursMbS / sha256MbS) * 100) / 100}`,
    )
    console.log(
      JSON.stringify({
        bench: 'validation',
        size_mb: round(fileMb),
        sha256_mb_s: round(sha256MbS),
        csv_parse_mb_s: round(csvParseMbS),
        ours_one_thread_mb_s: round(oneThreadMbS),
        ours_one_thread_peak_rss_mb: round(oneThread.peakRssMb),
        workers: availableParallelism(),
        ours_mb_s: round(oursMbS),
        ours_peak_rss_mb: round(ours.peakRssMb),
      }),
    )
  } finally {
    cleanup()
  }
}

await main()
