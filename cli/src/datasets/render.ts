import type { DatasetView, VersionView } from './api-types.ts'

/** Human output for terminals; `--json` prints the API's answer instead. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])))
  const widths = columns.map((column, index) =>
    Math.max(column.length, ...cells.map((row) => row[index]!.length)),
  )
  const line = (values: string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index]!))
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n')
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (Array.isArray(value)) return value.join(',')
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : value.toPrecision(6)
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

export function renderDataset(dataset: DatasetView): string {
  return [
    `id           ${dataset.id}`,
    `name         ${dataset.name}`,
    `description  ${dataset.description || '-'}`,
    `tags         ${dataset.tags.join(', ') || '-'}`,
    `owner        ${dataset.ownerId}`,
    `created      ${dataset.createdAt}`,
    `updated      ${dataset.updatedAt}`,
    ...(dataset.deletedAt ? [`deleted      ${dataset.deletedAt}`] : []),
    `versions     ${dataset.versionCount}`,
  ].join('\n')
}

export function renderVersions(versions: VersionView[]): string {
  return table(
    versions.map((v) => ({ ...v, size: formatBytes(v.size), rows: v.rowCount })),
    ['number', 'id', 'status', 'fileName', 'format', 'size', 'rows', 'createdAt'],
  )
}

/**
 * A version with its schema and profile. The validator's output is rendered generically
 * (column name, type, nullability, then whatever statistics the profile holds for it) so the
 * CLI keeps working as the profile gains fields.
 */
export function renderVersion(version: VersionView): string {
  const lines = [
    `version   ${version.number} (${version.id})`,
    `status    ${version.status}`,
    `file      ${version.fileName} (${version.format}, ${formatBytes(version.size)})`,
    `sha256    ${version.sha256}`,
  ]
  if (version.rowCount !== null) lines.push(`rows      ${version.rowCount}`)
  if (version.errors.length > 0) {
    lines.push('', 'errors:')
    for (const issue of version.errors) {
      const where = [
        issue.row !== undefined ? `row ${issue.row}` : '',
        issue.column !== undefined ? `column ${issue.column}` : '',
      ]
        .filter(Boolean)
        .join(', ')
      lines.push(`  ${issue.code}${where ? ` (${where})` : ''}: ${issue.message}`)
    }
  }
  const columns = schemaColumns(version.schema)
  if (columns.length > 0) {
    const stats = profileColumns(version.profile)
    lines.push(
      '',
      table(
        columns.map((column) => ({ ...column, ...summariseStats(stats.get(column.name)) })),
        ['name', 'type', 'nullable', 'nulls', 'min', 'max', 'mean', 'distinct'],
      ),
    )
  }
  return lines.join('\n')
}

interface ColumnRow {
  name: string
  type: unknown
  nullable: unknown
}

function schemaColumns(schema: unknown): ColumnRow[] {
  const list = Array.isArray(schema)
    ? schema
    : Array.isArray((schema as { columns?: unknown })?.columns)
      ? (schema as { columns: unknown[] }).columns
      : []
  return list.flatMap((column) =>
    typeof column === 'object' && column !== null && 'name' in column
      ? [
          {
            name: String((column as { name: unknown }).name),
            type: (column as { type?: unknown }).type,
            nullable: (column as { nullable?: unknown }).nullable,
          },
        ]
      : [],
  )
}

function profileColumns(profile: unknown): Map<string, Record<string, unknown>> {
  const columns = (profile as { columns?: unknown })?.columns
  const map = new Map<string, Record<string, unknown>>()
  if (Array.isArray(columns)) {
    for (const column of columns) {
      const name = (column as { name?: unknown })?.name
      if (typeof name === 'string') map.set(name, column as Record<string, unknown>)
    }
  } else if (typeof columns === 'object' && columns !== null) {
    for (const [name, column] of Object.entries(columns)) {
      map.set(name, column as Record<string, unknown>)
    }
  }
  return map
}

function summariseStats(stats: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!stats) return {}
  const numeric = (stats['numeric'] ?? stats) as Record<string, unknown>
  return {
    nulls: stats['nulls'] ?? stats['nullCount'],
    min: numeric['min'],
    max: numeric['max'],
    mean: numeric['mean'],
    distinct: stats['distinct'] ?? stats['approxDistinct'] ?? stats['distinctCount'],
  }
}
