/** A metric as the demo prints it: three decimals, or n/a when it is missing. */
export function formatMetric(x: number | undefined): string {
  return typeof x === 'number' ? x.toFixed(3) : 'n/a'
}

/** The time since the demo started, as +mm:ss (the prefix of every line it logs). */
export function elapsedClock(started: Date): string {
  const s = Math.round((Date.now() - started.getTime()) / 1000)
  return `+${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}
