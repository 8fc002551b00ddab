import { afterAll } from 'vitest'
import { closeOpened } from './index.ts'

// A setup file runs again for every test file, also in a process that keeps its modules between
// files: each file closes the connections, pools and clients the helpers opened for it. (Hooks
// run as a stack: this one after the file's own afterAll, which stops what uses them.)
afterAll(closeOpened)
