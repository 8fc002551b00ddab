import { createHash, createHmac } from 'node:crypto'

/**
 * What S3 does with a presigned request (AWS Signature Version 4, query-string form): it
 * rebuilds the canonical request from the URL and from the values the request carries for the
 * signed headers, and compares the signature. Written from the specification, independently of
 * the SDK that signed the URL; s3rver skips this check for V4 (it accepts any signature), so the
 * test does it here.
 */
export function signatureS3WouldExpect(
  url: string,
  secretAccessKey: string,
  headers: Record<string, string>,
): string {
  const parsed = new URL(url)
  const query = [...parsed.searchParams.entries()].filter(([name]) => name !== 'X-Amz-Signature')
  const encode = (text: string) =>
    encodeURIComponent(text).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    )
  const canonicalQuery = query
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  const signedHeaders = parsed.searchParams.get('X-Amz-SignedHeaders')!
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${(headers[name] ?? '').trim()}\n`)
    .join('')
  const canonicalRequest = [
    'PUT',
    parsed.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    parsed.searchParams.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n')
  const [, date, region, service] = parsed.searchParams.get('X-Amz-Credential')!.split('/')
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    parsed.searchParams.get('X-Amz-Date'),
    `${date}/${region}/${service}/aws4_request`,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n')
  const hmac = (key: string | Buffer, data: string) =>
    createHmac('sha256', key).update(data).digest()
  let key = hmac(`AWS4${secretAccessKey}`, date!)
  for (const part of [region!, service!, 'aws4_request']) key = hmac(key, part)
  return createHmac('sha256', key).update(stringToSign).digest('hex')
}
