import type { FeedbackDeps } from '../application/dependencies.ts'

/** Waits until the FEEDBACK projection has applied `minPosition`, when a query asks for it. */
export async function waitFor(
  deps: Pick<FeedbackDeps, 'waitForFeedback'>,
  minPosition: number | undefined,
): Promise<void> {
  if (minPosition !== undefined && minPosition > 0) await deps.waitForFeedback(minPosition)
}
