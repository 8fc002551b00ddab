// The entry of a validation worker thread. A worker starts without the TypeScript loader of
// the process that made it (tsx under Node, vite-node under vitest), so it loads the
// TypeScript module through tsx's in-thread require hook — not its ESM loader, which would
// start one more thread, with its own heap, for every worker.
const { require: tsxRequire } = require('tsx/cjs/api')

module.exports = tsxRequire('./profile-batch.ts', __filename).profileBatch
