/**
 * Where the registry stores what it owns in the models bucket (training's artifacts stay where
 * training put them, under `runs/<runId>/…`): everything of a model under `models/<name>/`,
 * built from the validated name and registry-made ids only.
 */
const KEY_SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/

function assertKeySafe(what: string, id: string): void {
  if (!KEY_SAFE_ID.test(id)) throw new Error(`${what} '${id}' cannot be part of a storage key`)
}

export function modelPrefix(model: string): string {
  assertKeySafe('model name', model)
  return `models/${model}/`
}

export function uploadPrefix(model: string, uploadId: string): string {
  assertKeySafe('upload id', uploadId)
  return `${modelPrefix(model)}uploads/${uploadId}/`
}

export function uploadObjectKey(model: string, uploadId: string): string {
  return `${uploadPrefix(model, uploadId)}model.onnx`
}

/** Declared signatures are content-addressed: the same schema is stored once per model. */
export function signatureObjectKey(model: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`'${sha256}' is not a SHA-256`)
  return `${modelPrefix(model)}signatures/${sha256}.json`
}
