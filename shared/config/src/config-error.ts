/** One offending environment variable and why it was refused. */
export interface ConfigIssue {
  variable: string
  message: string
}

/**
 * Thrown by `loadConfig` when the environment does not satisfy the schema. The message lists
 * every offending variable at once, so an operator fixes the deployment in one round trip
 * instead of discovering problems one restart at a time.
 */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  - ${issue.variable}: ${issue.message}`).join('\n'),
    )
    this.name = 'ConfigError'
  }
}
