import { execFileSync } from 'node:child_process'

/**
 * GPUs of this machine, as `nvidia-smi` lists them (`-L`: one line per GPU); 0 where there is
 * no driver or no nvidia-smi. Read once at start: the local pool does not change under a
 * running service.
 */
export function detectGpus(): number {
  try {
    const out = execFileSync('nvidia-smi', ['-L'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    return out.split('\n').filter((line) => /^GPU \d+/.test(line.trim())).length
  } catch {
    return 0
  }
}
