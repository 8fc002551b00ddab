import type { DatasetFormat } from './limits.ts'

const MAX_FILE_NAME_LENGTH = 255

/**
 * The name a user sees for an uploaded file. Only the last path segment of whatever the
 * client declared survives (`../../etc/passwd` → `passwd`, `C:\x\y.csv` → `y.csv`), control
 * and reserved characters become `_`, and leading dots go so nothing is hidden or relative.
 * The storage key never contains it anyway (see object-keys.ts): this is for display and for
 * the download's Content-Disposition.
 */
export function sanitizeFileName(declared: string, fallback = 'data'): string {
  const lastSegment = declared.split(/[/\\]/).pop() ?? ''
  const cleaned = lastSegment
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim()
  const name = cleaned.length > 0 ? cleaned : fallback
  return truncateKeepingExtension(name, MAX_FILE_NAME_LENGTH)
}

function truncateKeepingExtension(name: string, max: number): string {
  if (name.length <= max) return name
  const dot = name.lastIndexOf('.')
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : ''
  return name.slice(0, max - extension.length) + extension
}

export function extensionOf(format: DatasetFormat): string {
  switch (format) {
    case 'csv':
      return 'csv'
    case 'jsonl':
      return 'jsonl'
    default: {
      const unknownFormat: never = format
      throw new Error(`unknown format ${String(unknownFormat)}`)
    }
  }
}

export function contentTypeOf(format: DatasetFormat): string {
  return format === 'csv' ? 'text/csv' : 'application/x-ndjson'
}
