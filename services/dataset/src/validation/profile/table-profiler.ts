import type { ColumnSchema, DatasetProfile } from '../validation.types.ts'
import { ColumnProfiler } from './column-profiler.ts'
import { revive } from './revive.ts'

/** More columns than this is refused: every column costs ~40 KiB of sketches. */
export const MAX_COLUMNS = 2000

/**
 * The profile of a whole table, fed row by row. CSV fixes the columns from its header; JSON
 * Lines adds a column the first time a key appears (the union of keys), and rows that lack a
 * key count as null there — which is why nulls are derived from the row count at the end.
 */
export class TableProfiler {
  private readonly columns: ColumnProfiler[] = []
  private readonly byName = new Map<string, ColumnProfiler>()
  rowCount = 0

  setColumns(names: readonly string[]): void {
    for (const name of names) this.addColumn(name)
  }

  /** A CSV row whose length matches the header. */
  addTextRow(fields: readonly string[], row: number): void {
    this.rowCount++
    const columns = this.columns
    for (let i = 0; i < columns.length; i++) columns[i]!.observeText(fields[i]!, row)
  }

  /**
   * A CSV line whose fields are `text[starts[i], ends[i])`, one per column: read in place,
   * without cutting the line into strings.
   */
  addLine(text: string, starts: Int32Array, ends: Int32Array, row: number): void {
    this.rowCount++
    const columns = this.columns
    for (let i = 0; i < columns.length; i++) {
      columns[i]!.observeRange(text, starts[i]!, ends[i]!, row)
    }
  }

  /**
   * A JSON object. Returns the first new key that would exceed MAX_COLUMNS (the row is then
   * not counted), or undefined.
   */
  addJsonRow(record: Record<string, unknown>, row: number): string | undefined {
    for (const key in record) {
      if (!this.byName.has(key)) {
        if (this.columns.length >= MAX_COLUMNS) return key
        this.addColumn(key)
      }
    }
    this.rowCount++
    for (const key in record) this.byName.get(key)!.observeJson(record[key], row)
    return undefined
  }

  /**
   * Folds in the profile of a later part of the same file. Columns meet by name; a column
   * only the other part has is added in its order of appearance (the union of JSON keys).
   * Returns the first name that would exceed MAX_COLUMNS (that column is then left out).
   */
  merge(other: TableProfiler): string | undefined {
    let refused: string | undefined
    this.rowCount += other.rowCount
    for (const column of other.columns) {
      let mine = this.byName.get(column.name)
      if (mine === undefined) {
        if (this.columns.length >= MAX_COLUMNS) {
          refused ??= column.name
          continue
        }
        mine = this.addColumn(column.name)
      }
      mine.merge(column)
    }
    return refused
  }

  /** A structured clone of a TableProfiler made one again. */
  static revive(clone: TableProfiler): TableProfiler {
    const table = revive(clone, TableProfiler)
    for (const column of table.columns) ColumnProfiler.revive(column)
    return table
  }

  result(): { schema: ColumnSchema[]; profile: DatasetProfile } {
    const rows = this.rowCount
    return {
      schema: this.columns.map((c) => c.schema(rows)),
      profile: { rowCount: rows, columns: this.columns.map((c) => c.profile(rows)) },
    }
  }

  private addColumn(name: string): ColumnProfiler {
    const column = new ColumnProfiler(name)
    this.columns.push(column)
    this.byName.set(name, column)
    return column
  }
}
