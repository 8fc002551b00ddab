/**
 * Running count, mean and variance by Welford's method: one pass, constant space, and no
 * catastrophic cancellation from summing squares of large values.
 */
export class RunningMoments {
  count = 0
  mean = 0
  min = Infinity
  max = -Infinity
  private m2 = 0

  add(x: number): void {
    this.count++
    const delta = x - this.mean
    this.mean += delta / this.count
    this.m2 += delta * (x - this.mean)
    if (x < this.min) this.min = x
    if (x > this.max) this.max = x
  }

  /**
   * Folds in the moments of another part of the same column (Chan, Golub and LeVeque's
   * pairwise update): the result is what one pass over both parts gives, up to rounding.
   */
  merge(other: RunningMoments): void {
    if (other.count === 0) return
    const count = this.count + other.count
    const delta = other.mean - this.mean
    this.mean += (delta * other.count) / count
    this.m2 += other.m2 + (delta * delta * this.count * other.count) / count
    this.count = count
    if (other.min < this.min) this.min = other.min
    if (other.max > this.max) this.max = other.max
  }

  /** Sample standard deviation (n − 1); null below two values. */
  sampleStd(): number | null {
    return this.count < 2 ? null : Math.sqrt(this.m2 / (this.count - 1))
  }
}
