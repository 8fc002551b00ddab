import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import pg from 'pg'
import { spawnServer, waitUntilHealthy, PartStartError, type RunningPart } from './process.ts'
import { postgresBinDir } from './system-packages.ts'

export interface PostgresOptions {
  dataDir: string
  port: number
  /** Trade durability for speed: for throwaway test clusters only. */
  ephemeral?: boolean
  /** Where to say what was changed on the machine to let the server reach its data. */
  log?: (line: string) => void
}

export const postgresCredentials = { user: 'argmax', password: 'argmax', database: 'argmax' }

/**
 * A private PostgreSQL cluster from Debian's packaged binaries. PostgreSQL refuses to run as
 * root, so when we are root the cluster belongs to the `postgres` OS user and the server is
 * spawned with its uid/gid.
 */
export async function startPostgres({
  dataDir,
  port,
  ephemeral = false,
  log = () => undefined,
}: PostgresOptions): Promise<RunningPart> {
  const bin = postgresBinDir()
  const clusterDir = join(dataDir, 'postgres')
  const logFile = join(dataDir, 'logs', 'postgres.log')
  const owner = osUserForPostgres()
  // The server runs as another OS user: it must be able to traverse into its cluster dir.
  mkdirSync(dataDir, { recursive: true })
  if (owner) {
    chmodSync(dataDir, statSync(dataDir).mode | 0o711)
    letPostgresReach(dataDir, owner, log)
  }
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) initCluster(bin, clusterDir, owner)
  const settings = [
    ['listen_addresses', '127.0.0.1'],
    ['port', String(port)],
    ['unix_socket_directories', clusterDir],
    ['max_connections', '200'],
    ...(ephemeral
      ? [
          ['fsync', 'off'],
          ['synchronous_commit', 'off'],
          ['full_page_writes', 'off'],
        ]
      : []),
  ]
  const server = spawnServer(
    join(bin, 'postgres'),
    ['-D', clusterDir, ...settings.flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    { logFile, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) },
  )
  const { user, password, database } = postgresCredentials
  const url = `postgres://${user}:${password}@127.0.0.1:${port}/${database}`
  const adminUrl = `postgres://${user}:${password}@127.0.0.1:${port}/postgres`
  await waitUntilHealthy(
    'postgres',
    server,
    async () => {
      const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 })
      client.on('error', () => undefined)
      await client.connect()
      try {
        const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [
          database,
        ])
        if (rowCount === 0) await client.query(`create database ${database}`)
      } finally {
        await client.end()
      }
      return true
    },
    {
      logFile,
      hint: `check that port ${port} is free and ${bin}/postgres exists (apt-get install postgresql)`,
    },
  )
  // SIGINT is PostgreSQL's "fast shutdown": it disconnects clients instead of waiting for them.
  return {
    name: 'postgres',
    pid: server.child.pid!,
    exited: server.exited,
    url,
    logFile,
    stop: async () => {
      server.child.kill('SIGINT')
      await server.stop()
    },
  }
}

interface OsUser {
  uid: number
  gid: number
}

function osUserForPostgres(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
  return { uid, gid }
}

/**
 * PostgreSQL reaches its cluster by path, so as the `postgres` user it must be able to pass
 * through every directory above the data dir. A checkout in root's home does not allow that
 * (/root is 0700). Rather than open such a directory to every user (`chmod o+x`), give the
 * `postgres` user alone passage through it with an ACL entry (`setfacl -m u:postgres:x`),
 * as one would by hand, and say so.
 */
function letPostgresReach(dataDir: string, owner: OsUser, log: (line: string) => void): void {
  const dir = resolve(dataDir)
  if (canPass(dir, owner)) return
  const blocked = ancestors(dir).filter((ancestor) => !passableByMode(ancestor, owner))
  for (const ancestor of blocked) {
    try {
      execFileSync('setfacl', ['-m', 'u:postgres:x', ancestor], { stdio: 'pipe' })
      log(
        `let the postgres user pass through ${ancestor} (setfacl -m u:postgres:x) to reach ${dir}`,
      )
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() || String(error)
      throw new PartStartError(
        'postgres',
        `the postgres user cannot reach ${dir}: ${ancestor} does not let it pass, and granting it failed (${stderr})`,
        `use a data dir (--data-dir) that every user may pass through to, e.g. /var/lib/argmax, or run: apt-get install acl && setfacl -m u:postgres:x ${ancestor}`,
      )
    }
  }
  if (!canPass(dir, owner)) {
    throw new PartStartError(
      'postgres',
      `the postgres user cannot reach ${dir}`,
      'use a data dir (--data-dir) that every user may pass through to, e.g. /var/lib/argmax',
    )
  }
}

/** Whether `user` may pass through `dir` and all above it: the kernel's answer, ACLs included. */
function canPass(dir: string, user: OsUser): boolean {
  return spawnSync('test', ['-x', dir], { uid: user.uid, gid: user.gid }).status === 0
}

/** Whether the mode bits alone let `user` pass (an ACL may let it pass where these do not). */
function passableByMode(dir: string, user: OsUser): boolean {
  const { mode, uid, gid } = statSync(dir)
  if (uid === user.uid) return (mode & 0o100) !== 0
  if (gid === user.gid) return (mode & 0o010) !== 0
  return (mode & 0o001) !== 0
}

/** `/a/b/c` → `/`, `/a`, `/a/b`. */
function ancestors(dir: string): string[] {
  const above: string[] = []
  for (let parent = dirname(dir); ; parent = dirname(parent)) {
    above.unshift(parent)
    if (dirname(parent) === parent) return above
  }
}

function initCluster(bin: string, clusterDir: string, owner?: OsUser): void {
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 })
  if (owner) chownSync(clusterDir, owner.uid, owner.gid)
  // initdb runs as the cluster's owner, so the password file must be readable by it.
  const pwFile = join(mkdtempSync(join(tmpdir(), 'argmax-initdb-')), 'password')
  writeFileSync(pwFile, postgresCredentials.password, { mode: 0o644 })
  chmodSync(dirname(pwFile), 0o755)
  try {
    execFileSync(
      join(bin, 'initdb'),
      [
        '-D',
        clusterDir,
        '-U',
        postgresCredentials.user,
        '--pwfile',
        pwFile,
        '--auth=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
      ],
      { stdio: 'pipe', ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) },
    )
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error)
    throw new PartStartError(
      'postgres',
      `initdb failed: ${stderr.trim()}`,
      `remove ${clusterDir} if it is a broken leftover`,
    )
  } finally {
    rmSync(dirname(pwFile), { recursive: true, force: true })
  }
}
