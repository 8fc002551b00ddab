import type { DatasetView, PartUrl, StartedUpload, UploadView, VersionView } from './api-types.ts'

/** An error answer from the platform, carrying its RFC 9457 problem details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem:
      { type?: string; title?: string; detail?: string; errors?: unknown } | undefined,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export interface ApiTarget {
  apiUrl: string
  token: string | undefined
}

type Query = Record<string, string | number | undefined>

/** A thin typed client for `/v1/datasets`: one method per route, nothing hidden. */
export function createDatasetApi(target: ApiTarget, fetchImpl: typeof fetch = fetch) {
  async function call<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const url = new URL(`${target.apiUrl}/v1/datasets${path}`)
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value))
    }
    const headers: Record<string, string> = { accept: 'application/json' }
    if (target.token) headers['authorization'] = `Bearer ${target.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetchImpl(url, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await response.text()
    const parsed = text ? (JSON.parse(text) as unknown) : undefined
    if (!response.ok) {
      const problem = parsed as { title?: string; detail?: string } | undefined
      throw new ApiError(
        response.status,
        problem,
        `${method} ${url.pathname} → ${response.status} ${problem?.detail ?? problem?.title ?? text}`,
      )
    }
    return parsed as T
  }

  const e = encodeURIComponent
  return {
    create: (input: { name: string; description?: string; tags?: string[] }) =>
      call<{ id: string; position: number; dataset: DatasetView }>('POST', '', input),
    list: (query: { name?: string; tag?: string; cursor?: string; limit?: number } = {}) =>
      call<{ items: DatasetView[]; nextCursor: string | null }>('GET', '', undefined, query),
    get: (id: string, minPosition?: number) =>
      call<DatasetView>('GET', `/${e(id)}`, undefined, { minPosition }),
    update: (id: string, input: { name?: string; description?: string; tags?: string[] }) =>
      call<{ position: number; dataset: DatasetView }>('PATCH', `/${e(id)}`, input),
    remove: (id: string) =>
      call<{ id: string; deletedAt: string; position: number }>('DELETE', `/${e(id)}`),
    startUpload: (
      id: string,
      input: { fileName: string; size: number; sha256: string; format: string; partSize?: number },
    ) => call<StartedUpload>('POST', `/${e(id)}/uploads`, input),
    getUpload: (id: string, uploadId: string) =>
      call<UploadView>('GET', `/${e(id)}/uploads/${e(uploadId)}`),
    presignParts: (id: string, uploadId: string, partNumbers: number[]) =>
      call<{ parts: PartUrl[]; expiresInSeconds: number }>(
        'POST',
        `/${e(id)}/uploads/${e(uploadId)}/parts`,
        { partNumbers },
      ),
    recordParts: (
      id: string,
      uploadId: string,
      parts: Array<{ partNumber: number; etag: string }>,
    ) =>
      call<{ position: number; recorded: number }>(
        'POST',
        `/${e(id)}/uploads/${e(uploadId)}/parts/recorded`,
        { parts },
      ),
    completeUpload: (
      id: string,
      uploadId: string,
      parts: Array<{ partNumber: number; etag: string }>,
    ) =>
      call<{ versionId: string; status: string; position: number }>(
        'POST',
        `/${e(id)}/uploads/${e(uploadId)}/complete`,
        { parts },
      ),
    abortUpload: (id: string, uploadId: string) =>
      call<{ status: string; position: number }>('DELETE', `/${e(id)}/uploads/${e(uploadId)}`),
    listVersions: (id: string, query: { status?: string; minPosition?: number } = {}) =>
      call<{ items: VersionView[] }>('GET', `/${e(id)}/versions`, undefined, query),
    getVersion: (id: string, versionId: string, minPosition?: number) =>
      call<VersionView>('GET', `/${e(id)}/versions/${e(versionId)}`, undefined, { minPosition }),
    downloadUrl: (id: string, versionId: string) =>
      call<{
        url: string
        expiresInSeconds: number
        fileName: string
        size: number
        sha256: string
      }>('GET', `/${e(id)}/versions/${e(versionId)}/download`),
  }
}

export type DatasetApi = ReturnType<typeof createDatasetApi>
