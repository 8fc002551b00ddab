import { NotFoundError } from '@argmax/errors'
import type { NatsConnection } from 'nats'
import type { ParkedMessage } from './parked-message.ts'
import { openParkingLot, type ParkedFilter, type ParkingLot } from './parking-lot.ts'

/**
 * What operators do with parked messages (the `argmax parked` commands call these). They only
 * bind to the PARKED bucket: where nothing was ever parked there is nothing to create.
 */

async function bind(nc: NatsConnection): Promise<ParkingLot | undefined> {
  return openParkingLot(nc, { create: false })
}

/** Every parked message (optionally of one stream and/or durable), oldest first. */
export async function listParked(
  nc: NatsConnection,
  filter: ParkedFilter = {},
): Promise<ParkedMessage[]> {
  return (await (await bind(nc))?.list(filter)) ?? []
}

export async function getParked(nc: NatsConnection, id: string): Promise<ParkedMessage> {
  const found = await (await bind(nc))?.get(id)
  if (!found) throw new NotFoundError('parked message', id)
  return found.entry
}

/**
 * Asks the consumer that parked it to handle the original message again. Nothing is appended
 * to any domain stream: the owning consumer loads the original by its sequence and runs its
 * handler; success removes the entry, failure parks it again with the new error. If no process
 * of that consumer runs, the request waits for one (a week at most).
 */
export async function replayParked(nc: NatsConnection, id: string): Promise<ParkedMessage> {
  const lot = await bind(nc)
  if (!lot) throw new NotFoundError('parked message', id)
  return lot.requestReplay(id)
}

/** Replays every entry still `parked` (not those already waiting for their replay). */
export async function replayAllParked(
  nc: NatsConnection,
  filter: ParkedFilter = {},
): Promise<ParkedMessage[]> {
  const lot = await bind(nc)
  if (!lot) return []
  const requested: ParkedMessage[] = []
  for (const entry of await lot.list(filter)) {
    if (entry.status === 'parked') requested.push(await lot.requestReplay(entry.id))
  }
  return requested
}

/** Drops the entry for good; the original message stays in its stream, unhandled. */
export async function discardParked(nc: NatsConnection, id: string): Promise<ParkedMessage> {
  const lot = await bind(nc)
  const found = await lot?.get(id)
  if (!lot || !found) throw new NotFoundError('parked message', id)
  await lot.remove(id)
  return found.entry
}
