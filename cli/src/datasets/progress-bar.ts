import cliProgress from 'cli-progress'
import type { UploadProgress } from './upload.ts'

const MB = 1024 * 1024

/**
 * A terminal progress bar for an upload: bytes, throughput and ETA. Throughput is measured
 * over the bytes moved in this run only (parts stored before a resume don't inflate it).
 */
export function createUploadProgressBar(stream: NodeJS.WriteStream = process.stderr) {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        '{phase} [{bar}] {percentage}% | {doneMb}/{totalMb} MB | {speed} MB/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 20,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  )
  let phase: UploadProgress['phase'] | undefined
  let phaseStart = 0
  let phaseStartBytes = 0
  return {
    update(progress: UploadProgress): void {
      if (progress.phase !== phase) {
        if (phase) bar.stop()
        phase = progress.phase
        phaseStart = performance.now()
        phaseStartBytes = progress.bytes
        bar.start(Math.max(1, progress.totalBytes), progress.bytes, payload(progress, 0))
        return
      }
      const seconds = (performance.now() - phaseStart) / 1000
      const speed = seconds > 0 ? (progress.bytes - phaseStartBytes) / MB / seconds : 0
      bar.update(progress.bytes, payload(progress, speed))
    },
    stop(): void {
      if (phase) bar.stop()
    },
  }
}

function payload(progress: UploadProgress, speed: number) {
  return {
    phase: progress.phase === 'hashing' ? 'sha256   ' : 'uploading',
    doneMb: (progress.bytes / MB).toFixed(1),
    totalMb: (progress.totalBytes / MB).toFixed(1),
    speed: speed.toFixed(1),
  }
}
