import type { FastifyInstance } from 'fastify'
import type { Principal } from '@argmax/auth'
import { NotFoundError } from '@argmax/errors'
import {
  idempotencyKeyOf,
  requestedPosition,
  requestPrincipal,
  serveRoute,
  type WaitForPosition,
} from '@argmax/http'
import { annotateVersion } from '../application/annotate-version.ts'
import { deleteVersion, restoreVersion } from '../application/delete-version.ts'
import type { RegistryDeps } from '../application/dependencies.ts'
import { lineageTree } from '../application/lineage.ts'
import { loadSignature } from '../application/signatures.ts'
import { parseVersionRef } from '../domain/index.ts'
import {
  findVersion,
  listAnnotations,
  listVersionRows,
  findRelease,
  namesFor,
  toVersionView,
  type ModelView,
  type VersionView,
} from '../projections/catalog.queries.ts'
import { registryRoutes } from './contract.ts'
import { visibleModel } from './read-your-writes.ts'
import { compareVersions } from './version-compare.ts'

/** The number a `{version}` names in the read model (aliases include champion and latest). */
export function versionNumberIn(model: ModelView, text: string): number {
  const ref = parseVersionRef(text)
  const version = ref.kind === 'number' ? ref.version : model.aliases[ref.alias]
  if (version === undefined) throw new NotFoundError('version', `${model.name}/${text}`)
  return version
}

export function registerVersionRoutes(
  app: FastifyInstance,
  deps: RegistryDeps,
  waitForPosition: WaitForPosition,
): void {
  async function visibleVersion(
    principal: Principal,
    name: string,
    ref: string,
    position: number,
  ): Promise<VersionView> {
    const model = await visibleModel(deps, principal, name, position, waitForPosition)
    const number = versionNumberIn(model, ref)
    const version = await findVersion(deps.db, name, number)
    if (!version) throw new NotFoundError('version', `${name}/${ref}`)
    return version
  }

  serveRoute(app, registryRoutes, 'listVersions', async (request) => {
    const { name } = request.params
    const principal = requestPrincipal(request)
    const model = await visibleModel(
      deps,
      principal,
      name,
      requestedPosition(request),
      waitForPosition,
    )
    const { compare, order, includeDeleted } = request.query
    const [rows, release] = await Promise.all([
      listVersionRows(deps.db, name, { includeDeleted: includeDeleted ?? false }),
      findRelease(deps.db, name),
    ])
    const versions = rows.map((row) =>
      toVersionView(row, namesFor(model.aliases, row.version), release.release),
    )
    return compareVersions(versions, compare, order)
  })

  serveRoute(app, registryRoutes, 'getVersion', async (request) => {
    const { name, version: ref } = request.params
    const version = await visibleVersion(
      requestPrincipal(request),
      name,
      ref,
      requestedPosition(request),
    )
    const [signature, annotations] = await Promise.all([
      loadSignature(deps, version.signatureRef),
      listAnnotations(deps.db, name, version.version),
    ])
    return { ...version, signature, annotations }
  })

  serveRoute(app, registryRoutes, 'getLineage', async (request) => {
    const { name, version: ref } = request.params
    const version = await visibleVersion(
      requestPrincipal(request),
      name,
      ref,
      requestedPosition(request),
    )
    return { model: name, version: version.version, root: lineageTree(version) }
  })

  serveRoute(app, registryRoutes, 'deleteVersion', async (request) => {
    const { name, version: ref } = request.params
    const { version, position, state } = await deleteVersion(
      deps,
      requestPrincipal(request),
      name,
      ref,
    )
    return { position, version, deletedAt: state.versions[version]?.deletedAt ?? null }
  })

  serveRoute(app, registryRoutes, 'restoreVersion', async (request) => {
    const { name, version: ref } = request.params
    const { version, position } = await restoreVersion(deps, requestPrincipal(request), name, ref)
    return { position, version }
  })

  serveRoute(app, registryRoutes, 'annotateVersion', async (request, reply) => {
    const { name, version: ref } = request.params
    const { version, annotationId, position } = await annotateVersion(
      deps,
      requestPrincipal(request),
      name,
      ref,
      request.body,
      idempotencyKeyOf(request),
    )
    await waitForPosition(position)
    const annotation = (await listAnnotations(deps.db, name, version)).find(
      (a) => a.id === annotationId,
    )
    if (!annotation) throw new NotFoundError('annotation', annotationId)
    reply.code(201)
    return { position, annotation }
  })
}
