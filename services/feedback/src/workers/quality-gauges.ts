import type { Meter, ObservableResult } from '@opentelemetry/api'

/**
 * Live quality and drift as Prometheus gauges, per model and version, labelled with the model's
 * owner (`user_id`) so dashboards and alerting rules can slice by user (seed 004's names):
 * `model_mae_score`, `model_rmse_score`, `model_r2_score`, `model_accuracy_score`,
 * `model_f1_score`, `model_log_loss`, `model_label_coverage`, `model_labelled_predictions`,
 * `model_feature_psi{feature}`, `model_prediction_psi`. The evaluator replaces the snapshot each
 * round; a scrape reads the last one (a version no longer served disappears).
 */
export interface GaugeSample {
  model: string
  version: number
  userId: string
  metrics: Partial<Record<GaugeName, number | null>>
  featurePsi: Array<{ feature: string; psi: number | null }>
}

export const GAUGES = {
  mae: 'model_mae_score',
  rmse: 'model_rmse_score',
  r2: 'model_r2_score',
  accuracy: 'model_accuracy_score',
  f1: 'model_f1_score',
  logLoss: 'model_log_loss',
  coverage: 'model_label_coverage',
  labelled: 'model_labelled_predictions',
  predictionPsi: 'model_prediction_psi',
} as const
export type GaugeName = keyof typeof GAUGES

const DESCRIPTIONS: Record<GaugeName, string> = {
  mae: 'Mean absolute error of the labelled predictions in the gauge window',
  rmse: 'Root mean squared error of the labelled predictions in the gauge window',
  r2: 'R² (coefficient of determination) of the labelled predictions in the gauge window',
  accuracy: 'Accuracy of the labelled predictions in the gauge window',
  f1: 'Macro F1 of the labelled predictions in the gauge window',
  logLoss: 'Log loss of the labelled predictions in the gauge window',
  coverage: 'Share of the predictions in the gauge window that have a label',
  labelled: 'Labelled predictions in the gauge window',
  predictionPsi: 'PSI of the prediction against the training target distribution',
}

export interface QualityGauges {
  replace(samples: readonly GaugeSample[]): void
  snapshot(): readonly GaugeSample[]
}

export function createQualityGauges(meter: Meter): QualityGauges {
  let samples: readonly GaugeSample[] = []
  const attributes = (sample: GaugeSample) => ({
    model_name: sample.model,
    version: String(sample.version),
    user_id: sample.userId,
  })
  for (const [key, name] of Object.entries(GAUGES) as Array<[GaugeName, string]>) {
    meter
      .createObservableGauge(name, { description: DESCRIPTIONS[key] })
      .addCallback((result: ObservableResult) => {
        for (const sample of samples) {
          const value = sample.metrics[key]
          if (typeof value === 'number' && Number.isFinite(value))
            result.observe(value, attributes(sample))
        }
      })
  }
  meter
    .createObservableGauge('model_feature_psi', {
      description: 'PSI of an input between the training profile and the gauge window',
    })
    .addCallback((result: ObservableResult) => {
      for (const sample of samples) {
        for (const { feature, psi } of sample.featurePsi) {
          if (typeof psi === 'number' && Number.isFinite(psi)) {
            result.observe(psi, { ...attributes(sample), feature })
          }
        }
      }
    })
  return {
    replace(next) {
      samples = next
    },
    snapshot: () => samples,
  }
}
