import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  launchArgs,
  PartStartError,
  spawnServer,
  waitUntilHealthy,
  type RunningPart,
} from '@argmax/stack'
import type { ServiceProcess } from './services.ts'
import { lastLines } from './log-tail.ts'

export interface StartServiceOptions {
  service: ServiceProcess
  repoRoot: string
  logsDir: string
  port: number
  env: Record<string, string>
  readyTimeoutMs?: number
}

/**
 * Runs one service's composition root as a child process and resolves once its /readyz says
 * 200 (it has reached NATS and PostgreSQL and run its migrations). A service that exits or
 * never gets ready is reported with its log file, and stopped.
 */
export async function startService({
  service,
  repoRoot,
  logsDir,
  port,
  env,
  readyTimeoutMs = 90_000,
}: StartServiceOptions): Promise<RunningPart> {
  const entry = join(repoRoot, service.entry)
  const logFile = join(logsDir, `${service.name}.log`)
  if (!existsSync(entry)) {
    throw new PartStartError(
      service.name,
      `${entry} does not exist`,
      'check out the whole repository',
    )
  }
  const server = spawnServer(process.execPath, launchArgs(entry), {
    logFile,
    cwd: repoRoot,
    env: { ...process.env, ...env },
    // Its own process group: a Ctrl-C in the terminal reaches only the supervisor, which then
    // stops the services before the infrastructure they depend on.
    detached: true,
  })
  const url = `http://127.0.0.1:${port}`
  const hint = `read ${logFile}; check that port ${port} is free (or pick others with --port-base)`
  try {
    await waitUntilHealthy(
      service.name,
      server,
      async () => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok,
      { logFile, timeoutMs: readyTimeoutMs, hint },
    )
  } catch (error) {
    if (!(error instanceof PartStartError)) throw error
    // The service's own last words usually say why (a config error, a refused connection).
    const reason = error.message.split('\n')[0]!.replace(`${service.name} could not start: `, '')
    const tail = lastLines(logFile, 5)
    throw new PartStartError(
      service.name,
      `${reason}\n${indent(tail.length > 0 ? tail.join('\n') : '(no log output)')}`,
      hint,
    )
  }
  return {
    name: service.name,
    pid: server.child.pid!,
    url,
    logFile,
    exited: server.exited,
    stop: () => server.stop(15_000),
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    | ${line}`)
    .join('\n')
}
