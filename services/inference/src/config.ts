import {
  authSettings,
  envConfig,
  httpSettings,
  loadConfig,
  natsSettings,
  postgresSettings,
  type Env,
} from '@argmax/config'

/** Everything the inference service reads from its environment, validated once at start-up. */
export const inferenceConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  auth: authSettings,
  http: httpSettings,
})

export type InferenceConfig = ReturnType<typeof loadInferenceConfig>

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadInferenceConfig(env: Env = process.env) {
  return loadConfig(inferenceConfigSchema, env)
}
