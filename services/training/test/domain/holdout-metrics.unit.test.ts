import { describe, expect, it } from 'vitest'
import { classificationScore, regressionScore } from '../../src/domain/index.ts'

// Expected values from scikit-learn 1.2.1 on the same arrays (mean_absolute_error,
// mean_squared_error ** 0.5, r2_score, accuracy_score, precision_recall_fscore_support with
// average='macro' and zero_division=0, log_loss with eps = float64's epsilon).
describe('holdout metrics', () => {
  it('regression: mae, rmse, r2 as scikit-learn computes them, whatever the chunking', () => {
    const y = [3.0, 4.5, 2.0, 5.0, 3.5, 1.0]
    const p = [2.5, 4.0, 2.5, 4.0, 3.9, 1.6]
    for (const size of [1, 2, 4, 6]) {
      const score = regressionScore()
      for (let i = 0; i < y.length; i += size) {
        score.add({
          task: 'regression',
          targets: y.slice(i, i + size),
          predictions: Float32Array.from(p.slice(i, i + size)),
        })
      }
      expect(score.rows).toBe(6)
      const m = score.metrics()
      // The predictions went through float32 as a model's output does: 1e-6 covers it.
      expect(m['mae']).toBeCloseTo(0.5833333333333334, 6)
      expect(m['rmse']).toBeCloseTo(0.6150880695748645, 6)
      expect(m['r2']).toBeCloseTo(0.7997058823529412, 6)
    }
  })

  it('classification: accuracy, macro precision/recall/f1 and log loss as scikit-learn', () => {
    const score = classificationScore(['a', 'b', 'c'])
    score.add({
      task: 'classification',
      targets: ['a', 'b', 'c', 'a'],
      labels: ['a', 'b', 'b', 'a'],
      probabilities: [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.5, 0.3, 0.6, 0.3, 0.1],
    })
    score.add({
      task: 'classification',
      targets: ['b', 'a', 'c'],
      labels: ['a', 'a', 'c'],
      probabilities: [0.5, 0.4, 0.1, 0.9, 0.05, 0.05, 0, 0, 1],
    })
    const m = score.metrics()
    expect(score.rows).toBe(7)
    expect(m['accuracy']).toBeCloseTo(0.7142857142857143, 12)
    expect(m['precision']).toBeCloseTo(0.75, 12)
    expect(m['recall']).toBeCloseTo(0.6666666666666666, 12)
    expect(m['f1']).toBeCloseTo(0.6746031746031745, 12)
    expect(m['log_loss']).toBeCloseTo(0.47375259583955004, 12)
  })

  it('no rows: no metrics (the check then fails as "has no value")', () => {
    expect(regressionScore().metrics()).toEqual({})
    expect(classificationScore(['x', 'y']).metrics()).toEqual({})
  })
})
