import type { Attributes, Counter, Meter, ObservableResult } from '@opentelemetry/api'

export interface ProjectionReading {
  projection: string
  stream: string
  position: number
  failing: boolean
}

export interface ProjectionInstruments {
  failures: Counter<Attributes>
  /** Reports `read()` on every collection until the returned function is called. */
  observe(read: () => ProjectionReading): () => void
}

/**
 * A projection's Prometheus series, labelled by projection and stream:
 * `argmax_projection_position` (its checkpoint), `argmax_projection_failing` (1 while stuck on a
 * failure, 0 otherwise) and `argmax_projection_failures_total` (failed attempts).
 */
export function projectionInstruments(meter: Meter): ProjectionInstruments {
  const position = meter.createObservableGauge('argmax_projection_position', {
    description: 'The stream sequence a projection has applied (its checkpoint)',
  })
  const failing = meter.createObservableGauge('argmax_projection_failing', {
    description: '1 while a projection is stuck on a failure and retrying, 0 otherwise',
  })
  const failures = meter.createCounter('argmax_projection_failures', {
    description: 'Failed attempts of a projection to apply its stream',
  })
  return {
    failures,
    observe(read) {
      const report = (instrument: 'position' | 'failing') => (result: ObservableResult) => {
        const reading = read()
        const labels = { projection: reading.projection, stream: reading.stream }
        result.observe(
          instrument === 'position' ? reading.position : reading.failing ? 1 : 0,
          labels,
        )
      }
      const onPosition = report('position')
      const onFailing = report('failing')
      position.addCallback(onPosition)
      failing.addCallback(onFailing)
      return () => {
        position.removeCallback(onPosition)
        failing.removeCallback(onFailing)
      }
    },
  }
}
