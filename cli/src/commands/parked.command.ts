import type { Command } from 'commander'
import {
  discardParked,
  listParked,
  replayAllParked,
  replayParked,
  type ParkedFilter,
  type ParkedMessage,
} from '@argmax/events'
import { connect, type NatsConnection } from 'nats'
import { table } from '../datasets/render.ts'
import { readState } from '../stack/state.ts'
import { pathsOf, type StackCommandOptions } from './stack-options.ts'

interface NatsOptions extends StackCommandOptions {
  natsUrl?: string
}

interface FilterOptions extends NatsOptions {
  stream?: string
  durable?: string
}

/** `--nats-url`, else ARGMAX_NATS_URL, else the running local stack's. */
function natsUrlOf(options: NatsOptions): string {
  const url =
    options.natsUrl ??
    process.env['ARGMAX_NATS_URL'] ??
    readState(pathsOf(options).stateFile)?.endpoints?.natsUrl
  if (!url) {
    throw new Error("no stack is running: start one with 'argmax up' or pass --nats-url")
  }
  return url
}

async function withNats<T>(options: NatsOptions, work: (nc: NatsConnection) => Promise<T>) {
  const nc = await connect({ servers: natsUrlOf(options), name: 'argmax-cli' })
  try {
    return await work(nc)
  } finally {
    await nc.close()
  }
}

function filterOf(options: FilterOptions): ParkedFilter {
  return { stream: options.stream, durable: options.durable }
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 80 ? `${line.slice(0, 79)}…` : line
}

export function renderParked(entries: ParkedMessage[]): string {
  if (entries.length === 0) return 'nothing is parked'
  return table(
    entries.map((entry) => ({
      ...entry,
      event: entry.eventType,
      error: firstLine(entry.error.message),
    })),
    ['id', 'event', 'reason', 'deliveries', 'replays', 'status', 'parkedAt', 'error'],
  )
}

function withConnectionOptions(command: Command): Command {
  return command
    .option('--nats-url <url>', 'NATS instead of the local stack’s (or ARGMAX_NATS_URL)')
    .option('--data-dir <dir>', 'the local stack to use (default: <repo>/.argmax)')
}

/**
 * `argmax parked`: messages the platform's consumers gave up on (see @argmax/events'
 * README). Replay hands one back to the consumer that parked it; nothing is re-published.
 */
export function registerParkedCommands(program: Command): void {
  const parked = program
    .command('parked')
    .description('messages consumers gave up on: list, replay through their consumer, discard')

  withConnectionOptions(
    parked
      .command('list')
      .description('every parked message, oldest first')
      .option('--stream <name>', 'only those of this stream')
      .option('--durable <name>', 'only those of this consumer')
      .option('--json', 'print the entries as JSON'),
  ).action(async (options: FilterOptions & { json?: boolean }) => {
    const entries = await withNats(options, (nc) => listParked(nc, filterOf(options)))
    console.log(options.json ? JSON.stringify(entries, null, 2) : renderParked(entries))
  })

  withConnectionOptions(
    parked
      .command('replay [id]')
      .description('have the consumer that parked it handle the original message again')
      .option('--all', 'every entry still parked (with --stream/--durable: of those only)')
      .option('--stream <name>', 'with --all: only those of this stream')
      .option('--durable <name>', 'with --all: only those of this consumer'),
  ).action(async (id: string | undefined, options: FilterOptions & { all?: boolean }) => {
    if (Boolean(id) === Boolean(options.all)) {
      throw new Error('name one parked message id, or pass --all')
    }
    const requested = await withNats(options, async (nc) =>
      id ? [await replayParked(nc, id)] : replayAllParked(nc, filterOf(options)),
    )
    for (const entry of requested) {
      console.log(`replay requested: ${entry.id} (${entry.eventType ?? 'undecodable'})`)
    }
    if (requested.length === 0) console.log('nothing to replay')
    else {
      console.log(
        "the owning consumer handles it when it next runs; 'argmax parked list' shows what is left",
      )
    }
  })

  withConnectionOptions(
    parked
      .command('discard <id>')
      .description('drop a parked message for good (the original stays in its stream, unhandled)'),
  ).action(async (id: string, options: NatsOptions) => {
    const entry = await withNats(options, (nc) => discardParked(nc, id))
    console.log(`discarded ${entry.id}`)
  })
}
