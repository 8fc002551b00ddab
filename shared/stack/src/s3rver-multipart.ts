import { readFile, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** The little of Koa's context (s3rver is a Koa app) these handlers use. */
interface Context {
  method: string
  path: string
  query: Record<string, string | string[] | undefined>
  status: number
  body: unknown
  type: string
}
export type Middleware = (ctx: Context, next: () => Promise<void>) => Promise<void>

/**
 * s3rver 3.7 answers AbortMultipartUpload with 405 and ListMultipartUploads with
 * NotImplemented. Without them a multipart upload that was started but never used — a create
 * that lost a race to its own retry, an upload its client abandoned — stays on disk for good,
 * and nobody can see that it does. These two handlers answer the same requests as S3 does, from
 * s3rver's own upload folders (`<bucket>/._S3rver_uploads/<uploadId>/`, holding a `key` file
 * and the parts), so the platform's one code path aborts here as on AWS, and tests can list
 * what is left. Every other request goes on to s3rver.
 */
// S3's bucket naming rules (so a bucket segment can never be `..`).
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*$/

export function multipartUploadsExtension(directory: string): Middleware {
  const uploadsOf = (bucket: string) => join(directory, bucket, '._S3rver_uploads')
  return async (ctx, next) => {
    const [bucket, ...keyParts] = ctx.path.split('/').slice(1)
    if (!bucket || !BUCKET_NAME.test(bucket)) return next()
    const key = keyParts.map(decodeURIComponent).join('/')
    const uploadId = ctx.query['uploadId']
    if (ctx.method === 'DELETE' && key && typeof uploadId === 'string') {
      return abort(ctx, uploadsOf(bucket), key, uploadId)
    }
    if (ctx.method === 'GET' && !key && 'uploads' in ctx.query) {
      return list(ctx, directory, bucket, uploadsOf(bucket))
    }
    return next()
  }
}

async function abort(ctx: Context, uploads: string, key: string, uploadId: string) {
  const folder = join(uploads, uploadId)
  // Upload ids are s3rver's hex strings; anything else names no upload (and no other folder).
  const recordedKey = /^[0-9a-f]+$/.test(uploadId)
    ? await readFile(join(folder, 'key'), 'utf8').catch(() => undefined)
    : undefined
  if (recordedKey !== key) {
    return answer(ctx, 404, error('NoSuchUpload', 'The specified upload does not exist.'))
  }
  await rm(folder, { recursive: true, force: true })
  ctx.status = 204
  ctx.body = null
}

async function list(ctx: Context, directory: string, bucket: string, uploads: string) {
  if (!(await isDirectory(join(directory, bucket)))) {
    return answer(ctx, 404, error('NoSuchBucket', 'The specified bucket does not exist'))
  }
  const prefix = typeof ctx.query['prefix'] === 'string' ? ctx.query['prefix'] : ''
  const entries: string[] = []
  for (const uploadId of (await readdir(uploads).catch(() => [])).sort()) {
    const folder = join(uploads, uploadId)
    const key = await readFile(join(folder, 'key'), 'utf8').catch(() => undefined)
    if (key === undefined || !key.startsWith(prefix)) continue
    const initiated = (await stat(folder)).mtime.toISOString()
    entries.push(
      `<Upload><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId><Initiated>${initiated}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
    )
  }
  answer(
    ctx,
    200,
    `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xml(bucket)}</Bucket><Prefix>${xml(prefix)}</Prefix><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><MaxUploads>${Math.max(1000, entries.length)}</MaxUploads><IsTruncated>false</IsTruncated>${entries.join('')}</ListMultipartUploadsResult>`,
  )
}

function answer(ctx: Context, status: number, body: string): void {
  ctx.status = status
  ctx.type = 'application/xml'
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`
}

function error(code: string, message: string): string {
  return `<Error><Code>${code}</Code><Message>${message}</Message></Error>`
}

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false
}
