import {
  authSettings,
  envConfig,
  httpSettings,
  loadConfig,
  natsSettings,
  postgresSettings,
  type Env,
} from '@argmax/config'

/** What every service reads: NATS, its PostgreSQL, how tokens are verified, where to listen. */
export const shellConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  auth: authSettings,
  http: httpSettings,
})

export type ShellConfig = ReturnType<typeof loadShellConfig>

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadShellConfig(env: Env = process.env) {
  return loadConfig(shellConfigSchema, env)
}
