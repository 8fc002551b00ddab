import { describe, expect, it } from 'vitest'
import { datasetSettings } from '../src/config.ts'

describe('dataset settings', () => {
  it('presigns URLs for 15 minutes unless told otherwise', () => {
    // Short-lived: a leaked part or download URL is of little use for long. Clients ask for
    // part URLs in batches as they go, so a slow upload still finishes.
    expect(datasetSettings.parse({}).presignExpirySeconds).toBe(900)
    expect(
      datasetSettings.parse({ ARGMAX_DATASET_PRESIGN_EXPIRY_SECONDS: '3600' }).presignExpirySeconds,
    ).toBe(3600)
  })
})
