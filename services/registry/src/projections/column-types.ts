import type { ColumnType } from 'kysely'

export type Timestamp = ColumnType<Date, Date | string, Date | string>
/** pg returns bigint as a string; readers convert with Number() (values < 2^53). */
export type BigIntColumn = ColumnType<string, number | string, number | string>
/** jsonb: written as JSON text, read back parsed. */
export type JsonColumn = ColumnType<unknown, string, string>
