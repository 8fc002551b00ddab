import type { ColumnType } from '../validation.types.ts'

/**
 * The widening rule: the narrowest type that holds both. Integers and floats meet at float;
 * any other mix (a number and a date, a boolean and a number, anything and a string) can only
 * be held as text, so it meets at string. `null` means "no value seen yet".
 */
export function widenType(current: ColumnType | null, next: ColumnType): ColumnType {
  if (current === null || current === next) return next
  if ((current === 'integer' && next === 'float') || (current === 'float' && next === 'integer')) {
    return 'float'
  }
  return 'string'
}
