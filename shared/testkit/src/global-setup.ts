import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { missingSystemPackages, startStack } from '@argmax/stack'
import './provided-context.ts'

/**
 * Starts one set of real servers (NATS JetStream, PostgreSQL, ClickHouse, S3) on free loopback
 * ports in a temporary directory for the whole `vitest run`, and removes it all afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = missingSystemPackages()
  if (missing.length > 0) {
    throw new Error(
      `the test kit needs ${missing.join(', ')}: run 'bash scripts/bootstrap.sh' first`,
    )
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'argmax-testkit-'))
  const stack = await startStack({ dataDir, ephemeral: true })
  project.provide('stack', stack.endpoints)
  return async () => {
    await stack.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
