import {
  authSettings,
  envConfig,
  httpSettings,
  loadConfig,
  natsSettings,
  postgresSettings,
  type Env,
} from '@argmax/config'

/** Everything the registry service reads from its environment, validated once at start-up. */
export const registryConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  auth: authSettings,
  http: httpSettings,
})

export type RegistryConfig = ReturnType<typeof loadRegistryConfig>

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadRegistryConfig(env: Env = process.env) {
  return loadConfig(registryConfigSchema, env)
}
