/**
 * Polls `probe` until it returns a value (anything but undefined) and resolves to it. Fails
 * after `timeoutMs` naming `what` and the probe's last error (a probe that throws is polled
 * again: what it reads may not exist yet). A probe that does not answer within the time left
 * fails the same way, so a hung call shows as this step, not as the whole test's timeout.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  const failure = (why: string) =>
    new Error(`${what} not reached in ${timeoutMs} ms${why}${last ? `: ${String(last)}` : ''}`)
  for (let attempt = 1; ; attempt++) {
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      probe().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      new Promise<'hung'>((resolve) => {
        timer = setTimeout(() => resolve('hung'), Math.max(0, deadline - Date.now()))
      }),
    ])
    clearTimeout(timer)
    if (outcome === 'hung') throw failure(' (the last probe did not answer)')
    if ('error' in outcome) last = outcome.error
    else if (outcome.value !== undefined) return outcome.value
    if (Date.now() >= deadline) throw failure('')
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, 50 * attempt)))
  }
}
