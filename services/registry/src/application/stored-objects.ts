import { parseS3Uri, type StoredObject } from '@argmax/contracts'
import { headObject } from '@argmax/storage'
import type { RegistryDeps } from './dependencies.ts'

/**
 * What is wrong with a version's stored objects before it may serve: each must be in storage
 * (HeadObject) with the size recorded at registration. Empty when all are fine. Storage
 * failures propagate (503): "cannot check" is not "missing".
 */
export async function storageProblems(
  deps: Pick<RegistryDeps, 's3'>,
  objects: Record<string, StoredObject>,
): Promise<string[]> {
  const problems: string[] = []
  for (const [name, object] of Object.entries(objects)) {
    const location = parseS3Uri(object.uri)
    if (!location) {
      problems.push(`its ${name} ${object.uri} is not an s3:// URI`)
      continue
    }
    const head = await headObject(deps.s3, location)
    if (!head) problems.push(`its ${name} ${object.uri} is not in storage`)
    else if (head.size !== object.size) {
      problems.push(
        `its ${name} ${object.uri} is ${head.size} bytes, ${object.size} were registered`,
      )
    }
  }
  return problems
}
