import type {
  Metadata,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  sendUnaryData,
} from '@grpc/grpc-js'
import { ArgmaxError, toGrpcStatus } from '@argmax/errors'
import { requireRole } from './authorization.ts'
import type { Principal, Role } from './principal.ts'
import type { Verifier } from './verifier.ts'

export interface GrpcAuthOptions {
  /** Called with errors that are not ours (bugs): the client only sees INTERNAL. */
  onUnexpectedError?: (error: unknown, path: string) => void
}

export interface GrpcHandlerOptions {
  /** The call needs any one of these roles (admins always pass). */
  roles?: Role[]
}

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, principal: Principal) => Promise<Res>
type ClientStream<Req, Res> = (
  call: ServerReadableStream<Req, Res>,
  principal: Principal,
) => Promise<Res>
type ServerStream<Req, Res> = (
  call: ServerWritableStream<Req, Res>,
  principal: Principal,
) => Promise<void>
type Bidi<Req, Res> = (call: ServerDuplexStream<Req, Res>, principal: Principal) => Promise<void>

function authorizationOf(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0]
  return typeof value === 'string' ? value : undefined
}

/**
 * Wraps grpc-js handlers so each one authenticates the `authorization` metadata (a bearer JWT,
 * as in REST), checks roles, and receives the principal. Handlers are async and throw
 * @argmax/errors; every failure reaches the client through `toGrpcStatus` (UNAUTHENTICATED,
 * PERMISSION_DENIED, INVALID_ARGUMENT…). Wrappers rather than a server interceptor because an
 * interceptor cannot hand the principal to the handler.
 */
export function createGrpcAuth(verifier: Verifier, options: GrpcAuthOptions = {}) {
  const authenticate = async (call: { metadata: Metadata }, handler: GrpcHandlerOptions) => {
    const principal = await verifier.authenticate(authorizationOf(call.metadata))
    if (handler.roles) requireRole(principal, ...handler.roles)
    return principal
  }
  const status = (error: unknown, path: string) => {
    if (!(error instanceof ArgmaxError)) options.onUnexpectedError?.(error, path)
    return toGrpcStatus(error)
  }

  type Call = { metadata: Metadata; getPath(): string }
  /** Calls that answer once: the handler's result or its error goes to the callback. */
  const answering =
    <C extends Call, Res>(
      handler: (call: C, principal: Principal) => Promise<Res>,
      opts: GrpcHandlerOptions,
    ) =>
    (call: C, callback: sendUnaryData<Res>) => {
      // One async function rather than a `.then` chain: fewer promises and closures on the
      // path of every call (the model server's garbage is its main cost after grpc-js).
      void (async () => {
        let response: Res
        try {
          response = await handler(call, await authenticate(call, opts))
        } catch (error) {
          callback(status(error, call.getPath()))
          return
        }
        callback(null, response)
      })()
    }
  /** Calls that stream back: the handler writes; its end or error ends the call. */
  const streaming =
    <
      C extends Call & {
        writableEnded: boolean
        end(): void
        emit(event: 'error', e: unknown): boolean
      },
    >(
      handler: (call: C, principal: Principal) => Promise<void>,
      opts: GrpcHandlerOptions,
    ) =>
    (call: C) => {
      authenticate(call, opts)
        .then((principal) => handler(call, principal))
        .then(
          () => {
            if (!call.writableEnded) call.end()
          },
          // grpc-js turns an 'error' event on a server stream into the call's final status.
          (error: unknown) => call.emit('error', status(error, call.getPath())),
        )
    }

  return {
    unary: <Req, Res>(
      handler: Unary<Req, Res>,
      opts: GrpcHandlerOptions = {},
    ): handleUnaryCall<Req, Res> => answering(handler, opts),
    clientStream: <Req, Res>(
      handler: ClientStream<Req, Res>,
      opts: GrpcHandlerOptions = {},
    ): handleClientStreamingCall<Req, Res> => answering(handler, opts),
    serverStream: <Req, Res>(
      handler: ServerStream<Req, Res>,
      opts: GrpcHandlerOptions = {},
    ): handleServerStreamingCall<Req, Res> => streaming(handler, opts),
    bidi: <Req, Res>(
      handler: Bidi<Req, Res>,
      opts: GrpcHandlerOptions = {},
    ): handleBidiStreamingCall<Req, Res> => streaming(handler, opts),
  }
}

export type GrpcAuth = ReturnType<typeof createGrpcAuth>
