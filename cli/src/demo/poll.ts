/** Calls `probe` every `everyMs` until it answers something, or fails naming what it waited for. */
export async function poll<T>(
  what: string,
  timeoutSeconds: number,
  probe: () => Promise<T | undefined>,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutSeconds * 1000
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() >= deadline) throw new Error(`waited ${timeoutSeconds} s for ${what}`)
    await sleep(everyMs)
  }
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))
