// Entry point of the local S3 endpoint process (see s3.ts).
import S3rver from 's3rver'
import { multipartUploadsExtension, type Middleware } from './s3rver-multipart.ts'
import { readAfterWrite, type FilesystemStore } from './s3rver-read-after-write.ts'

const port = Number(process.env['S3_PORT'])
const directory = process.env['S3_DIRECTORY']
if (!port || !directory) {
  console.error('S3_PORT and S3_DIRECTORY must be set')
  process.exit(1)
}
const server = new S3rver({ port, address: '127.0.0.1', directory, silent: true })
readAfterWrite((server as unknown as { store: FilesystemStore }).store)
// s3rver is a Koa app: ahead of its own routes, answer the multipart calls it lacks.
;(server as unknown as { middleware: Middleware[] }).middleware.unshift(
  multipartUploadsExtension(directory),
)
await server.run()
console.log(`s3rver listening on 127.0.0.1:${port}, data in ${directory}`)
const shutdown = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
