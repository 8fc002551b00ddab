import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/**
 * The Debian packages the embedded stack runs, and the binary that proves each is there. As
 * root, PostgreSQL runs as the `postgres` user, which `setfacl` may have to let through to a
 * data dir in root's home (see postgres.ts).
 */
export const systemPackages = [
  { pkg: 'nats-server', binary: '/usr/sbin/nats-server' },
  { pkg: 'clickhouse-server', binary: '/usr/sbin/clickhouse-server' },
  { pkg: 'clickhouse-client', binary: '/usr/bin/clickhouse-client' },
  { pkg: 'postgresql', binary: `${postgresBinDir()}/postgres` },
  { pkg: 'acl', binary: '/usr/bin/setfacl', onlyAsRoot: true },
] as const

export function postgresBinDir(): string {
  for (const version of ['17', '16', '15']) {
    const dir = `/usr/lib/postgresql/${version}/bin`
    if (existsSync(`${dir}/postgres`)) return dir
  }
  return '/usr/lib/postgresql/15/bin'
}

export function missingSystemPackages(): string[] {
  const root = process.getuid?.() === 0
  return systemPackages
    .filter((entry) => root || !('onlyAsRoot' in entry))
    .filter(({ binary }) => !existsSync(binary))
    .map(({ pkg }) => pkg)
}

/**
 * Installs what is missing with apt-get (this machine kind runs as root with Debian's
 * repositories reachable). Returns the packages it installed.
 */
export function ensureSystemPackages(log: (line: string) => void = console.log): string[] {
  const missing = missingSystemPackages()
  if (missing.length === 0) return []
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing system packages: ${missing.join(', ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`,
    )
  }
  log(`installing ${missing.join(', ')} with apt-get …`)
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
  const result = spawnSync(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', ...missing],
    {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  )
  if (result.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`)
  return missing
}
