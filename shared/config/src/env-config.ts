import { z } from 'zod'
import type { Env } from './load-config.ts'

type Sections = Record<string, z.ZodType>

/**
 * Composes settings pieces into one schema over the flat environment: each section parses the
 * whole environment and its output lands under its key. Issues from every section are
 * collected, so one `loadConfig` call reports every bad variable of the service.
 */
export function envConfig<S extends Sections>(
  sections: S,
): z.ZodType<{ [K in keyof S]: z.output<S[K]> }, Env> {
  return z.record(z.string(), z.string().optional()).transform((env, ctx) => {
    const output: Record<string, unknown> = {}
    let failed = false
    for (const [key, section] of Object.entries(sections)) {
      const result = section.safeParse(env)
      if (result.success) {
        output[key] = result.data
        continue
      }
      failed = true
      for (const issue of result.error.issues) {
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: env })
      }
    }
    return failed ? z.NEVER : (output as { [K in keyof S]: z.output<S[K]> })
  })
}
