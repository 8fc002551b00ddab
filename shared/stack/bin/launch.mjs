// Runs a TypeScript entry point of this repository in this node process:
//
//   node shared/stack/bin/launch.mjs services/registry/src/main.ts [args…]
//
// Why not `node --import tsx`: with a module loader registered, every one of the ~1,400 modules
// a service loads (its dependencies' too) goes through the loader's thread, which doubles the
// time a process takes to start (4.5 s of CPU for a service, 2 s without). Here esbuild bundles
// the entry's own TypeScript into one file, leaves every npm package to node's own loader, and
// keeps the bundle until one of its sources changes. There is still no build step to run by
// hand: the first start after a change builds (about half a second).
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, version as esbuildVersion } from 'esbuild'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const cacheRoot = join(repoRoot, 'node_modules/.cache/argmax-launch')

// One folder per entry point; in it, one folder per build and `current.json` naming the build in
// use. A build is never rewritten: a process that loaded one keeps loading its chunks from it.
const entryDirOf = (entry) =>
  join(cacheRoot, createHash('sha256').update(entry).digest('hex').slice(0, 16))

/** Size and modification time: what tells a source that changed from one that did not. */
function stamp(file) {
  try {
    const { size, mtimeMs } = statSync(file)
    return `${size}:${mtimeMs}`
  } catch {
    return 'missing'
  }
}

const launcherStamp = `${esbuildVersion}/${stamp(fileURLToPath(import.meta.url))}`

/** The build to run, if there is one and none of its sources changed since. */
function currentBuild(entry) {
  let current
  try {
    current = JSON.parse(readFileSync(join(entryDirOf(entry), 'current.json'), 'utf8'))
  } catch {
    return undefined
  }
  if (current.launcher !== launcherStamp) return undefined
  const unchanged = Object.entries(current.inputs).every(([file, seen]) => stamp(file) === seen)
  return unchanged ? current.build : undefined
}

/**
 * Bare imports stay imports, of the file node itself would load from the importing source:
 * resolved there with node's conditions (esbuild's extra `module` condition and `module`
 * field turned off), and written as an absolute path since the bundle lives elsewhere.
 * Workspace packages (@argmax/*) are sources, so they are bundled.
 */
const packagesStayExternal = {
  name: 'packages-stay-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@argmax/') || args.pluginData === 'resolving') return undefined
      if (args.path.startsWith('node:')) return { path: args.path, external: true }
      const found = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'resolving',
      })
      if (found.errors.length > 0) return { errors: found.errors }
      return { path: found.path, external: !found.path.includes('/node_modules/@argmax/') }
    })
  },
}

/** Each source keeps its own `import.meta.url`, so paths it finds next to itself still work. */
const sourcesKeepTheirUrl = {
  name: 'sources-keep-their-url',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
      if (args.path.includes('/node_modules/')) return undefined
      const source = readFileSync(args.path, 'utf8')
      return {
        contents: source.replaceAll(
          'import.meta.url',
          JSON.stringify(pathToFileURL(args.path).href),
        ),
        loader: 'ts',
      }
    })
  },
}

async function bundle(entry) {
  const entryDir = entryDirOf(entry)
  const buildId = `${Date.now()}-${process.pid}`
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: { main: entry },
    outdir: join(entryDir, buildId),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['node'],
    mainFields: ['main'],
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'error',
    plugins: [packagesStayExternal, sourcesKeepTheirUrl],
  })
  const inputs = {}
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = resolve(repoRoot, input)
    inputs[file] = stamp(file)
  }
  const currentFile = join(entryDir, 'current.json')
  const staged = `${currentFile}.${process.pid}`
  writeFileSync(staged, JSON.stringify({ launcher: launcherStamp, build: buildId, inputs }))
  renameSync(staged, currentFile)
  forgetOldBuilds(entryDir, buildId)
  return buildId
}

/**
 * Builds made over an hour ago, other than the current one, are removed. A process loads its
 * chunks while it starts (the only dynamic imports are made then), so a process still running
 * from such a build needs none of its files.
 */
function forgetOldBuilds(entryDir, keep) {
  for (const name of readdirSync(entryDir)) {
    const path = join(entryDir, name)
    if (name === keep || name === 'current.json') continue
    try {
      if (Date.now() - statSync(path).mtimeMs > 3_600_000)
        rmSync(path, { recursive: true, force: true })
    } catch {
      // Another process forgot it first.
    }
  }
}

if (process.argv[2] === '--build') {
  // An image's build step: bundles made while the file system can still be written.
  for (const entry of process.argv.slice(3).map((file) => resolve(file))) {
    if (!currentBuild(entry)) await bundle(entry)
  }
} else {
  const [entryArgument] = process.argv.splice(2, 1)
  if (!entryArgument) {
    console.error('usage: node shared/stack/bin/launch.mjs [--build] <entry.ts> [args…]')
    process.exit(2)
  }
  const entry = resolve(entryArgument)
  const buildId = currentBuild(entry) ?? (await bundle(entry))
  process.setSourceMapsEnabled(true)
  // As if node had been given the entry itself: argument parsers read process.argv.
  process.argv[1] = entry
  await import(pathToFileURL(join(entryDirOf(entry), buildId, 'main.js')).href)
}
