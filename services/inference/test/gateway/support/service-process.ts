import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { launchArgs } from '@argmax/testkit'

export interface ServiceProcess<Ready> {
  child: ChildProcess
  /** What `ready` made of the log line that said the process was ready. */
  ready: Ready
  exited: Promise<number | null>
  kill(signal?: NodeJS.Signals): Promise<void>
}

/**
 * One of this package's entry points as its own process, as `argmax up` and Kubernetes run
 * them. Resolves once `ready` returns something for one of its JSON log lines (it sees every
 * line in order, so it may keep state); rejects, with the process's stderr, if it exits first.
 */
export async function spawnServiceProcess<Ready>(
  entry: string,
  env: NodeJS.ProcessEnv,
  ready: (line: { msg?: string } & Record<string, unknown>) => Ready | undefined,
): Promise<ServiceProcess<Ready>> {
  const child = spawn(process.execPath, launchArgs(entry), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const value = await new Promise<Ready>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string } & Record<string, unknown>
      try {
        entry = JSON.parse(line) as typeof entry
      } catch {
        return // not a log line
      }
      const made = ready(entry)
      if (made !== undefined) resolve(made)
    })
    void exited.then((code) => reject(new Error(`${entry} exited ${code}: ${stderr}`)))
  })
  return {
    child,
    ready: value,
    exited,
    async kill(signal = 'SIGKILL') {
      child.kill(signal)
      await exited
    },
  }
}
