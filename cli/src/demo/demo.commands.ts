import { join } from 'node:path'
import type { Command } from 'commander'
import { mintDevToken } from '@argmax/auth'
import { pathsOf, type StackCommandOptions } from '../commands/stack-options.ts'
import { readDevSecret } from '../stack/dev-secret.ts'
import { readState } from '../stack/state.ts'
import { DEFAULT_OPTIONS, FAST_OPTIONS, runDemoLoop, type DemoLoopResult } from './loop.ts'

interface LoopCommandOptions extends StackCommandOptions {
  seed: number
  fast?: boolean
  json?: boolean
}

const integer = (what: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a whole number ≥ 0`)
  return n
}

/** `argmax demo loop`: the closed loop on the local stack, hands-off. */
export function registerDemoCommands(program: Command): Command {
  const demo = program.command('demo').description('demonstrations on the local stack')
  demo
    .command('loop')
    .description(
      'the closed loop, hands-off: v1 serves a drifting world, the MAE monitor fires, a retrain on fresh feedback makes v2, its canary goes 10 → 50 → 100 %; then a candidate fitted to buggy labels is rolled back in its canary. Prints the timeline and the lineage in SQL',
    )
    .option('--seed <n>', 'the simulated world (films, request ids, labels)', integer('--seed'), 7)
    .option('--fast', 'shorter windows and monitor delay (the e2e test)')
    .option('--json', 'print the result as JSON on stdout (progress on stderr)')
    .option('--data-dir <dir>', 'the local stack (default: <repo>/.argmax, or ARGMAX_DATA_DIR)')
    .action(async (options: LoopCommandOptions) => {
      const paths = pathsOf(options)
      const state = readState(paths.stateFile)
      if (!state || state.status !== 'ready' || !state.endpoints) {
        throw new Error("the local stack is not running: start it with 'argmax up --detach'")
      }
      const e = state.endpoints
      // An admin of the stack (the demo triggers and rolls out), speaking for the user
      // `argmax up`'s token speaks for, the owner of the main demo's movies model.
      const token = await mintDevToken({
        secret: readDevSecret(paths.jwtSecretFile),
        subject: 'dev-admin',
        roles: ['admin'],
        ttl: 3600,
      })
      const out = options.json ? console.error : console.log
      const result = await runDemoLoop(
        {
          edgeUrl: process.env['ARGMAX_API_URL'] ?? state.edgeUrl,
          token,
          analyst: {
            clickhouseUrl: e.clickhouseUrl,
            user: e.clickhouseAnalystUser,
            password: e.clickhouseAnalystPassword,
            database: e.clickhouseDatabase,
          },
          workDir: join(paths.dataDir, 'demo'),
          log: out,
        },
        { ...(options.fast ? FAST_OPTIONS : DEFAULT_OPTIONS), seed: options.seed },
      )
      if (options.json) console.log(JSON.stringify(result, null, 2))
      else console.log(renderEnd(result))
    })
  return demo
}

function renderEnd(r: DemoLoopResult): string {
  const start = Date.parse(r.startedAt)
  const rel = (at: string) => {
    const s = Math.round((Date.parse(at) - start) / 1000)
    return `+${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
  }
  const lines = [
    '',
    `── the timeline (${Math.round(r.wallSeconds)} s, seed ${r.seed})`,
    ...r.timeline.map((e) => `${rel(e.at)}  ${e.at}  ${e.source.padEnd(16)} ${e.text}`),
    '',
    `v1 = version ${r.base.version}; round one: version ${r.roundOne.candidate} ${r.roundOne.rolloutStatus}; round two: version ${r.roundTwo.candidate} ${r.roundTwo.rolloutStatus}; champion: version ${r.champion}`,
    `round two's traffic by version (predictions): ${Object.entries(r.roundTwo.traffic.byVersion)
      .map(([v, n]) => `v${v} ${n}`)
      .join(', ')}`,
    '',
    '── why each step happened: the lineage in SQL over domain_events, as the analyst',
    r.lineageSql,
    '',
    ...r.lineage.map(
      (row) =>
        `${row['occurred_at']}  ${String(row['type']).padEnd(24)} v${String(row['version'] || '-').padEnd(3)} ${String(row['actor']).padEnd(18)} ${row['caused_by'] ? `← ${row['caused_by']}  ` : ''}${row['why']}`,
    ),
  ]
  return lines.join('\n')
}
