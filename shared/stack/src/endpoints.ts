/** Where every part of the infrastructure answers: what services and tests are configured with. */
export interface StackEndpoints {
  natsUrl: string
  postgresUrl: string
  clickhouseUrl: string
  /** The native protocol's port, for `clickhouse-client --port`. */
  clickhouseNativePort: number
  /** The platform's database; the analyst may read only this one. */
  clickhouseDatabase: string
  clickhouseUser: string
  clickhousePassword: string
  clickhouseAnalystUser: string
  clickhouseAnalystPassword: string
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string }
}

/** The ARGMAX_* environment a service process reads (see @argmax/config). */
export function endpointsToEnv(endpoints: StackEndpoints): Record<string, string> {
  return {
    ARGMAX_NATS_URL: endpoints.natsUrl,
    ARGMAX_POSTGRES_URL: endpoints.postgresUrl,
    ARGMAX_CLICKHOUSE_URL: endpoints.clickhouseUrl,
    ARGMAX_CLICKHOUSE_USER: endpoints.clickhouseUser,
    ARGMAX_CLICKHOUSE_PASSWORD: endpoints.clickhousePassword,
    ARGMAX_S3_ENDPOINT: endpoints.s3.endpoint,
    ARGMAX_S3_REGION: endpoints.s3.region,
    ARGMAX_S3_ACCESS_KEY_ID: endpoints.s3.accessKeyId,
    ARGMAX_S3_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey,
    ARGMAX_S3_FORCE_PATH_STYLE: 'true',
  }
}
