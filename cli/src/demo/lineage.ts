/**
 * The lineage of the demo's loop in SQL over ClickHouse's `domain_events` (docs/analytics.md):
 * every event of the movies model's loop since the demo started — a monitor's state changes,
 * the retrain it requested, each pipeline step, each rollout decision, each release — in order,
 * with why it happened (the reason, trigger, verdict or evidence its data records) and the event
 * that caused it. Written for ClickHouse 18.16 as the read-only analyst (visitParam*, no
 * settings).
 */
export function lineageSql(database: string, model: string, since: Date): string {
  const from = since.toISOString().replace('T', ' ').slice(0, 19)
  return `SELECT occurred_at, context, type, version, actor, caused_by, why
FROM
(
    SELECT
        occurred_at,
        occurred_ms,
        sequence,
        context,
        type,
        ifNull(toString(model_version), '') AS version,
        actor,
        -- What caused it: the event's causation id, or the feedback event a pipeline run's trigger names.
        if(causation_id != '', causation_id,
           visitParamExtractString(visitParamExtractRaw(data, 'trigger'), 'sourceEventId')) AS cause_id,
        multiIf(
            type = 'MonitorStateChanged',
                concat(visitParamExtractString(data, 'from'), ' → ', visitParamExtractString(data, 'to'), ': ',
                       visitParamExtractString(data, 'reason')),
            type = 'RetrainRequested', visitParamExtractString(data, 'reason'),
            type = 'PipelineRunStarted',
                concat('trigger ', visitParamExtractString(visitParamExtractRaw(data, 'trigger'), 'kind'), ': ',
                       visitParamExtractString(visitParamExtractRaw(data, 'trigger'), 'reason')),
            type = 'PipelineDataPrepared',
                concat(visitParamExtractString(data, 'source'), ': dataset version ',
                       visitParamExtractString(data, 'datasetVersionId')),
            type = 'PipelineTrainingStarted', concat('training run ', visitParamExtractString(data, 'runId')),
            type = 'PipelineTrainingFinished',
                concat(visitParamExtractString(data, 'outcome'), ': test mae ',
                       toString(round(visitParamExtractFloat(visitParamExtractRaw(data, 'metrics'), 'mae'), 4))),
            type = 'PipelineEvaluated',
                concat('candidate mae ',
                       toString(round(visitParamExtractFloat(visitParamExtractRaw(visitParamExtractRaw(data, 'candidate'), 'metrics'), 'mae'), 4)),
                       ' vs serving version ', toString(visitParamExtractUInt(visitParamExtractRaw(data, 'serving'), 'version')), ' mae ',
                       toString(round(visitParamExtractFloat(visitParamExtractRaw(visitParamExtractRaw(data, 'serving'), 'metrics'), 'mae'), 4)),
                       ' on the same ', toString(visitParamExtractUInt(visitParamExtractRaw(data, 'holdout'), 'rows')), ' holdout rows'),
            type IN ('PipelineGatePassed', 'PipelineGateFailed'), visitParamExtractRaw(data, 'reasons'),
            type = 'PipelineRegistered',
                concat('version ', toString(visitParamExtractUInt(data, 'version')), ' is ', visitParamExtractString(data, 'alias')),
            type = 'PipelineWarmed',
                concat('version ', toString(visitParamExtractUInt(data, 'version')), ' loaded after ',
                       toString(visitParamExtractFloat(data, 'waitedSeconds')), ' s'),
            type = 'PipelineHandedOver', concat('rollout ', visitParamExtractString(data, 'rolloutId')),
            type = 'RolloutStepStarted', concat('release ', visitParamExtractRaw(data, 'release')),
            type = 'RolloutStepJudged',
                concat(toString(visitParamExtractUInt(data, 'percent')), ' %: ', visitParamExtractString(data, 'verdict'),
                       ', live mae candidate ',
                       toString(round(visitParamExtractFloat(visitParamExtractRaw(visitParamExtractRaw(visitParamExtractRaw(data, 'signals'), 'candidate'), 'quality'), 'value'), 4)),
                       ' vs stable ',
                       toString(round(visitParamExtractFloat(visitParamExtractRaw(visitParamExtractRaw(visitParamExtractRaw(data, 'signals'), 'stable'), 'quality'), 'value'), 4)),
                       ' → ', visitParamExtractString(data, 'next'), ' ', visitParamExtractRaw(data, 'reasons')),
            type IN ('RolloutPromoted', 'RolloutReverted'),
                concat(visitParamExtractString(data, 'outcome'), ' release ', visitParamExtractRaw(data, 'release')),
            type = 'ReleaseChanged',
                concat(visitParamExtractRaw(data, 'release'), ': ', visitParamExtractString(data, 'reason')),
            visitParamExtractString(data, 'reason')
        ) AS why
    FROM argmax.domain_events
    WHERE model = '${model}'
      AND occurred_at >= toDateTime('${from}')
      AND type IN ('MonitorStateChanged', 'RetrainRequested', 'PipelineRunStarted', 'PipelineTriggerCoalesced',
                   'PipelineDataPrepared', 'PipelineTrainingStarted', 'PipelineTrainingFinished',
                   'PipelineEvaluated', 'PipelineGatePassed', 'PipelineGateFailed', 'PipelineRegistered',
                   'PipelineWarmed', 'PipelineHandedOver', 'PipelineRunFailed', 'RolloutStarted', 'RolloutStepStarted',
                   'RolloutStepJudged', 'RolloutPromoted', 'RolloutReverted', 'ReleaseChanged')
)
ANY LEFT JOIN
(
    SELECT event_id AS cause_id, type AS caused_by
    FROM argmax.domain_events
    WHERE occurred_at >= toDateTime('${from}')
) USING cause_id
ORDER BY occurred_at, occurred_ms, sequence`.replaceAll('argmax.', `${database}.`)
}

export interface AnalystEndpoint {
  clickhouseUrl: string
  user: string
  password: string
}

/** Runs a query as the analyst over ClickHouse's HTTP interface; rows as objects. */
export async function queryAsAnalyst(
  endpoint: AnalystEndpoint,
  sql: string,
): Promise<Array<Record<string, string>>> {
  const url = new URL(endpoint.clickhouseUrl)
  // Credentials as URL parameters: what every ClickHouse version's HTTP interface reads.
  url.searchParams.set('user', endpoint.user)
  url.searchParams.set('password', endpoint.password)
  const answer = await fetch(url, { method: 'POST', body: `${sql}\nFORMAT JSON` })
  const text = await answer.text()
  if (!answer.ok) throw new Error(`ClickHouse: HTTP ${answer.status} ${text.slice(0, 500)}`)
  return (JSON.parse(text) as { data: Array<Record<string, string>> }).data
}
