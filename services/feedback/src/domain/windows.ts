/**
 * The windows live quality and drift are computed over: the last 5 minutes, hour or day, or
 * everything since the model's current stable version was released.
 */
export const WINDOWS = ['5m', '1h', '1d', 'release'] as const
export type WindowName = (typeof WINDOWS)[number]

export const WINDOW_MS: Record<Exclude<WindowName, 'release'>, number> = {
  '5m': 5 * 60_000,
  '1h': 3_600_000,
  '1d': 24 * 3_600_000,
}

/**
 * [from, to] of a window ending at `now` (to the second, the current second included: a live
 * window sees what was just predicted); `release` starts at the release time (or `now`).
 */
export function windowRange(
  name: WindowName,
  now: Date,
  releasedAt: Date | null,
): { from: Date; to: Date } {
  if (name === 'release') return { from: releasedAt ?? now, to: now }
  return { from: new Date(now.getTime() - WINDOW_MS[name]), to: now }
}

/** Buckets of a window's time series: about `buckets` of them, whole seconds wide. */
export function bucketSeconds(range: { from: Date; to: Date }, buckets: number): number {
  const span = Math.max(1, (range.to.getTime() - range.from.getTime()) / 1000)
  return Math.max(1, Math.ceil(span / Math.max(1, buckets)))
}
