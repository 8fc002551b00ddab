import {
  authSettings,
  envConfig,
  httpSettings,
  loadConfig,
  natsSettings,
  postgresSettings,
  type Env,
} from '@argmax/config'

/** Everything the training service reads from its environment, validated once at start-up. */
export const trainingConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  auth: authSettings,
  http: httpSettings,
})

export type TrainingConfig = ReturnType<typeof loadTrainingConfig>

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadTrainingConfig(env: Env = process.env) {
  return loadConfig(trainingConfigSchema, env)
}
