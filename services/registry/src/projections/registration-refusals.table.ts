import type { Selectable } from 'kysely'
import type { Timestamp } from './column-types.ts'

/** Training runs that ended READY and were not registered, and why. */
export interface RegistrationRefusalsTable {
  model: string
  run_id: string
  attempt: number
  owner_id: string
  reason: string
  message: string
  refused_at: Timestamp
}

export type RegistrationRefusalRow = Selectable<RegistrationRefusalsTable>
