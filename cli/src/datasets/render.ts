import type { ColumnProfile, DatasetView, VersionView } from '@argmax/dataset-service/client'

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

/** A version with its schema, the profile's statistics for each column, and its errors. */
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
  if (version.schema && version.schema.length > 0) {
    const stats = new Map(version.profile?.columns.map((column) => [column.name, column]))
    lines.push(
      '',
      table(
        version.schema.map((column) => ({
          name: column.name,
          type: column.type,
          nullable: column.nullable,
          ...statistics(stats.get(column.name)),
        })),
        ['name', 'type', 'nullable', 'nulls', 'min', 'max', 'mean', 'distinct'],
      ),
    )
  }
  return lines.join('\n')
}

function statistics(profile: ColumnProfile | undefined): Record<string, unknown> {
  if (!profile) return {}
  return {
    nulls: profile.nulls,
    min: profile.numeric?.min ?? profile.timestamp?.min,
    max: profile.numeric?.max ?? profile.timestamp?.max,
    mean: profile.numeric?.mean,
    distinct: profile.distinct,
  }
}
