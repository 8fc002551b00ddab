import { v7 as uuidv7 } from 'uuid'

/** UUIDv7: time-ordered, so ids sort by creation; also the JetStream `Nats-Msg-Id`. */
export function newEventId(): string {
  return uuidv7()
}

/** `<context>.<aggregate>.<id>`, e.g. `training.run.0190…`. */
export function subjectOf(context: string, aggregate: string, id: string): string {
  for (const [name, token] of Object.entries({ context, aggregate, id })) {
    if (!token || /[\s.*>]/.test(token)) {
      throw new Error(`${name} "${token}" cannot be a subject token (no dots, spaces, * or >)`)
    }
  }
  return `${context}.${aggregate}.${id}`
}
