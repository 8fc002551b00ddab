/**
 * Summarises a V8 CPU profile (`.cpuprofile`, as `BENCH_CPU_PROF` makes them) by self time:
 * shares of the busy time (idle left out) by package or source file, and by function.
 *
 *   npx tsx bench/cpuprofile-summary.ts <file.cpuprofile> [--top 40] [--skip-seconds 0]
 *
 * `--skip-seconds` leaves out the first seconds (start-up: module loading and compiling).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '40' },
    'skip-seconds': { type: 'string', default: '0' },
  },
})
if (positionals.length !== 1) {
  console.error('usage: cpuprofile-summary.ts <file.cpuprofile> [--top 40] [--skip-seconds 0]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as CpuProfile
const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
const skipUs = Number(values['skip-seconds']) * 1_000_000

/** A package (`name@version` from pnpm's store), a Node built-in module, or a source file. */
function bucketOf(url: string): string {
  if (!url) return '(native)'
  const pnpm = /node_modules\/\.pnpm\/([^/]+)/.exec(url)
  if (pnpm) return pnpm[1]!
  if (url.startsWith('node:')) return url.split('/').slice(0, 3).join('/')
  const ours = /(services|shared|bench|cli)\/.*/.exec(url)
  return ours ? ours[0] : url
}

const byBucket = new Map<string, number>()
const byFunction = new Map<string, number>()
let busyUs = 0
let elapsedUs = 0
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0
  elapsedUs += delta
  if (elapsedUs < skipUs) return
  const frame = nodes.get(id)!.callFrame
  if (frame.functionName === '(idle)') return
  busyUs += delta
  const bucket = bucketOf(frame.url)
  const name = `${frame.functionName || '(anonymous)'} ${bucket}:${frame.lineNumber + 1}`
  byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + delta)
  byFunction.set(name, (byFunction.get(name) ?? 0) + delta)
})

const print = (title: string, totals: Map<string, number>, top: number) => {
  console.log(`--- ${title}`)
  for (const [key, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const share = ((100 * us) / busyUs).toFixed(1)
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${share.padStart(5)} %  ${key}`)
  }
}
console.log(
  `busy ${(busyUs / 1000).toFixed(0)} ms (idle and the first ${values['skip-seconds']} s left out)`,
)
print('by package or file', byBucket, 30)
print('by function', byFunction, Number(values.top))
