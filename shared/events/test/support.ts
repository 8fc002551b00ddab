import { connectNats, uniqueName } from '@argmax/testkit'
import { ensureStreams } from '../src/index.ts'

/** A fresh stream owning `<prefix>.>` for one test. */
export async function freshStream(prefix = 'evt') {
  const nc = await connectNats()
  const name = uniqueName(prefix.toUpperCase())
  const context = name.toLowerCase()
  await ensureStreams(await nc.jetstreamManager(), [
    { name, subjects: [`${context}.>`], retention: 'limits' },
  ])
  return { nc, stream: name, context }
}
