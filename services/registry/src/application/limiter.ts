/**
 * At most `concurrency` tasks at once; the others wait in order. Checking an ONNX file reads it
 * whole into memory, so the number checked at once bounds the memory they take.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>
}

export function createLimiter(concurrency: number): Limiter {
  let active = 0
  const waiting: Array<() => void> = []
  const release = () => {
    active--
    waiting.shift()?.()
  }
  return {
    async run(task) {
      if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve))
      active++
      try {
        return await task()
      } finally {
        release()
      }
    },
  }
}
