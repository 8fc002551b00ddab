import {
  authSettings,
  envConfig,
  httpSettings,
  loadConfig,
  natsSettings,
  postgresSettings,
  type Env,
} from '@argmax/config'

/** Everything the feedback service reads from its environment, validated once at start-up. */
export const feedbackConfigSchema = envConfig({
  nats: natsSettings,
  postgres: postgresSettings,
  auth: authSettings,
  http: httpSettings,
})

export type FeedbackConfig = ReturnType<typeof loadFeedbackConfig>

/** Throws a ConfigError naming every missing or malformed variable. */
export function loadFeedbackConfig(env: Env = process.env) {
  return loadConfig(feedbackConfigSchema, env)
}
