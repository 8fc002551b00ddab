import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { launchArgs } from '@argmax/testkit'

export interface ServiceProcess {
  child: ChildProcess
  exited: Promise<number | null>
  kill(signal?: NodeJS.Signals): Promise<void>
}

/**
 * One of this package's entry points as its own process, as `argmax up` and Kubernetes run
 * them. Resolves once `isReady` says yes to one of its JSON log lines (it sees every line in
 * order, so it may note what earlier ones said); rejects, with the process's stderr, if it
 * exits first.
 */
export async function spawnServiceProcess(
  entry: string,
  env: NodeJS.ProcessEnv,
  isReady: (line: { msg?: string } & Record<string, unknown>) => boolean,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, launchArgs(entry), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string } & Record<string, unknown>
      try {
        entry = JSON.parse(line) as typeof entry
      } catch {
        return // not a log line
      }
      if (isReady(entry)) resolve()
    })
    void exited.then((code) => reject(new Error(`${entry} exited ${code}: ${stderr}`)))
  })
  return {
    child,
    exited,
    async kill(signal = 'SIGKILL') {
      child.kill(signal)
      await exited
    },
  }
}
