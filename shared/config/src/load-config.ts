import type { z } from 'zod'
import { ConfigError, type ConfigIssue } from './config-error.ts'

export type Env = Record<string, string | undefined>

// Values of these variables never appear in an error message: crash logs get shipped around.
const secretName = /SECRET|PASSWORD|TOKEN|PRIVATE|CREDENTIAL|_KEY(_|$)/i

/**
 * Parses and validates the environment once, at start-up. Empty strings count as unset
 * (`FOO=` in a compose file or manifest means "not configured"). Throws a `ConfigError`
 * naming every offending variable.
 */
export function loadConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: Env = process.env,
): z.output<Schema> {
  const present: Env = {}
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') present[name] = value
  }
  const result = schema.safeParse(present)
  if (result.success) return result.data
  throw new ConfigError(describeIssues(result.error.issues, present))
}

function describeIssues(issues: readonly z.core.$ZodIssue[], env: Env): ConfigIssue[] {
  const seen = new Set<string>()
  const described: ConfigIssue[] = []
  for (const issue of issues) {
    const variable = issue.path.map(String).join('.') || '(environment)'
    const value = env[String(issue.path[0])]
    let message: string
    if (issue.path.length > 0 && value === undefined) message = 'is required but not set'
    else if (value === undefined || secretName.test(variable)) message = issue.message
    else message = `${issue.message} (got ${JSON.stringify(value)})`
    const key = `${variable}\0${message}`
    if (seen.has(key)) continue
    seen.add(key)
    described.push({ variable, message })
  }
  return described
}

/**
 * Runs a configuration loader for a `main.ts`: a `ConfigError` is printed and the process
 * exits with status 1 (no stack trace — the message says everything); other errors propagate.
 */
export function exitOnConfigError<T>(
  load: () => T,
  io: { exit: (code: number) => never; write: (text: string) => void } = {
    exit: (code) => process.exit(code),
    write: (text) => process.stderr.write(text),
  },
): T {
  try {
    return load()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    io.write(`${error.message}\n`)
    return io.exit(1)
  }
}
