import { lookup } from 'node:dns/promises'

/**
 * Model-server addresses from configuration: `host:port` as given, or `dns:<name>:<port>` —
 * every address the name resolves to, looked up again every `intervalMs`. With a headless
 * Kubernetes Service (`dns:model-server:8001`) each pod is an endpoint of its own, so the
 * HorizontalPodAutoscaler's new pods get their versions and placement follows the pods.
 */
export interface Discovery {
  /** Resolves every entry now; answers the addresses, sorted, without duplicates. */
  resolve(): Promise<string[]>
  /** Resolves again every interval; `onChange` hears only when the addresses differ. */
  start(onChange: (addresses: string[]) => void): void
  stop(): void
}

export type ResolveName = (host: string) => Promise<string[]>

const systemResolver: ResolveName = async (host) =>
  (await lookup(host, { all: true })).map((address) => address.address)

export function isDnsEntry(entry: string): boolean {
  return entry.startsWith('dns:')
}

export function createDiscovery(
  entries: readonly string[],
  intervalMs: number,
  log: { warn(fields: Record<string, unknown>, message: string): void },
  resolveName: ResolveName = systemResolver,
): Discovery {
  let timer: NodeJS.Timeout | undefined
  let current: string[] = []
  // Per DNS entry, what it resolved to last time.
  const lastOf = new Map<string, string[]>()

  const resolveEntry = async (entry: string): Promise<string[]> => {
    if (!isDnsEntry(entry)) return [entry]
    const rest = entry.slice('dns:'.length)
    const colon = rest.lastIndexOf(':')
    const host = rest.slice(0, colon)
    const port = rest.slice(colon + 1)
    try {
      const ips = await resolveName(host)
      const addresses = ips.map((ip) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`))
      lastOf.set(entry, addresses)
      return addresses
    } catch (error) {
      // A name that does not resolve now (a DNS hiccup) keeps what it had: dropping every
      // model server on one failed lookup would turn a blip into an outage.
      log.warn(
        { err: error, entry },
        'model-server name does not resolve; keeping its last addresses',
      )
      return lastOf.get(entry) ?? []
    }
  }

  const resolve = async () => {
    const resolved = await Promise.all(entries.map(resolveEntry))
    current = [...new Set(resolved.flat())].sort()
    return current
  }

  let stopped = false
  return {
    resolve,
    start(onChange) {
      if (!entries.some(isDnsEntry)) return
      timer = setInterval(() => {
        const before = current.join()
        void resolve().then((addresses) => {
          if (!stopped && addresses.join() !== before) onChange(addresses)
        })
      }, intervalMs)
      timer.unref()
    },
    stop() {
      stopped = true
      clearInterval(timer)
    },
  }
}
