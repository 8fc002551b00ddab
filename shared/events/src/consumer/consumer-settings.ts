import { ValidationError } from '@argmax/errors'
import { noUpcasting, type Upcaster } from '../upcasting.ts'
import type { CommonConsumerOptions, ConsumerLogger, ParkedHook } from './consumer.types.ts'

export const DEFAULT_ACK_WAIT_MS = 30_000
export const DEFAULT_MAX_DELIVER = 5
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000]
export const DEFAULT_MAX_ACK_PENDING = 1_000
const MAX_DELIVER_CEILING = 1_000

/** The options every consumer shares, with their defaults applied and checked. */
export interface ConsumerSettings {
  stream: string
  durable: string
  filterSubject: string | undefined
  deliverFrom: 'all' | 'new'
  ackWaitMs: number
  maxDeliver: number
  retryDelaysMs: readonly number[]
  maxAckPending: number
  idlePullMs: number
  stopMode: 'finish' | 'hand-back'
  upcast: Upcaster
  onParked: ParkedHook | undefined
  log: ConsumerLogger
  parkingReplicas: number
  now: () => Date
}

/** Warnings and errors on the console, for scripts; a service passes its pino logger. */
export const consoleConsumerLogger: ConsumerLogger = {
  info: () => undefined,
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
}

export const silentConsumerLogger: ConsumerLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
}

function wholeNumber(field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw ValidationError.field(field, `must be a whole number from ${min} to ${max}, not ${value}`)
  }
  return value
}

/** Subject tokens: JetStream names cannot hold dots, spaces or wildcards. */
function name(field: string, value: string): string {
  if (!value || /[\s.*>/\\]/.test(value)) {
    throw ValidationError.field(
      field,
      `"${value}" must be a name without dots, spaces, *, > or slashes`,
    )
  }
  return value
}

export function resolveSettings(
  options: CommonConsumerOptions,
  defaults: { maxAckPending: number } = { maxAckPending: DEFAULT_MAX_ACK_PENDING },
): ConsumerSettings {
  const retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS
  if (retryDelaysMs.length === 0) throw ValidationError.field('retryDelaysMs', 'must not be empty')
  retryDelaysMs.forEach((delay, i) => wholeNumber(`retryDelaysMs[${i}]`, delay, 0))
  return {
    stream: name('stream', options.stream),
    durable: name('durable', options.durable),
    filterSubject: options.filterSubject,
    deliverFrom: options.deliverFrom ?? 'all',
    ackWaitMs: wholeNumber('ackWaitMs', options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS, 100),
    maxDeliver: wholeNumber(
      'maxDeliver',
      options.maxDeliver ?? DEFAULT_MAX_DELIVER,
      1,
      MAX_DELIVER_CEILING,
    ),
    retryDelaysMs,
    maxAckPending: wholeNumber('maxAckPending', options.maxAckPending ?? defaults.maxAckPending, 1),
    idlePullMs: wholeNumber('idlePullMs', options.idlePullMs ?? 5_000, 1_000),
    stopMode: options.stopMode ?? 'finish',
    upcast: options.upcast ?? noUpcasting,
    onParked: options.onParked,
    log: options.log ?? consoleConsumerLogger,
    parkingReplicas: options.parkingReplicas ?? 1,
    now: options.now ?? (() => new Date()),
  }
}

/** The wait before the next delivery after the handler failed on delivery `deliveryCount`. */
export function retryDelayAfter(deliveryCount: number, delays: readonly number[]): number {
  return delays[Math.min(Math.max(deliveryCount, 1), delays.length) - 1] ?? 0
}
