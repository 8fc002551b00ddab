import { ArgmaxError } from '@argmax/errors'

export interface CheckResult {
  ok: boolean
  /** Why a failed check failed (the error's message). */
  error?: string
  /** What a failed check knows beside its message (the details of an ArgmaxError it threw). */
  details?: Record<string, unknown>
}

export interface ReadinessReport {
  ok: boolean
  checks: Record<string, CheckResult>
}

/** What `createServiceApp` calls for /readyz. */
export type Readiness = () => Promise<boolean | ReadinessReport>

export function toReport(result: boolean | ReadinessReport): ReadinessReport {
  return typeof result === 'boolean' ? { ok: result, checks: {} } : result
}

/**
 * Builds a `Readiness` from named probes (`{ postgres: () => pool.query('select 1') }`): a probe
 * passes when it resolves and fails when it rejects or outlasts `timeoutMs`. Probes run in
 * parallel so one slow dependency does not hide the state of the others.
 */
export function readinessChecks(
  probes: Record<string, () => Promise<unknown>>,
  options: { timeoutMs?: number } = {},
): Readiness {
  const timeoutMs = options.timeoutMs ?? 2_000
  const run = async (probe: () => Promise<unknown>): Promise<CheckResult> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([probe(), timeout])
      return { ok: true }
    } catch (error) {
      const details =
        error instanceof ArgmaxError && Object.keys(error.details).length > 0
          ? { details: error.details }
          : {}
      return {
        ok: false,
        error: error instanceof Error ? error.message : String(error),
        ...details,
      }
    } finally {
      clearTimeout(timer)
    }
  }
  return async () => {
    const names = Object.keys(probes)
    const results = await Promise.all(names.map((name) => run(probes[name]!)))
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]))
    return { ok: results.every((result) => result.ok), checks }
  }
}
