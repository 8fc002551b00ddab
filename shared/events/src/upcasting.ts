import type { RecordedEvent } from './envelope.ts'

/** Turns the data of `type` at `fromVersion` into the data of version `fromVersion + 1`. */
export type Upcast = (data: unknown) => unknown

/** Per event type, per old schema version, the step to the next version. */
export type UpcasterTable = Record<string, Record<number, Upcast>>

export type Upcaster = (event: RecordedEvent) => RecordedEvent

/**
 * Old events are never rewritten: each read walks them up to the current schema, one version
 * step at a time, so handlers only ever see the current shape.
 */
export function createUpcasters(table: UpcasterTable): Upcaster {
  return (event) => {
    const steps = table[event.type]
    if (!steps) return event
    let { data, schemaVersion } = event
    for (let step = steps[schemaVersion]; step; step = steps[schemaVersion]) {
      data = step(data)
      schemaVersion += 1
    }
    return schemaVersion === event.schemaVersion ? event : { ...event, data, schemaVersion }
  }
}

export const noUpcasting: Upcaster = (event) => event
