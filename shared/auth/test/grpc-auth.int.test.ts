import {
  Server,
  ServerCredentials,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '@argmax/errors'
import {
  createGrpcAuth,
  createVerifier,
  generateDevSecret,
  mintDevToken,
  type Role,
} from '../src/index.ts'

// A two-method service with JSON messages, so the test needs no .proto file.
const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown,
}
const definition: ServiceDefinition = {
  whoAmI: {
    path: '/argmax.test.Demo/WhoAmI',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  countdown: {
    path: '/argmax.test.Demo/Countdown',
    requestStream: false,
    responseStream: true,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
}

const secret = generateDevSecret()
const unexpected: unknown[] = []
const auth = createGrpcAuth(createVerifier({ mode: 'hs256', secret }), {
  onUnexpectedError: (error) => unexpected.push(error),
})
const server = new Server()
server.addService(definition, {
  whoAmI: auth.unary<{ fail?: string }, { subject: string; roles: Role[] }>(
    async (call, principal) => {
      if (call.request.fail === 'validation') throw ValidationError.field('fail', 'must be absent')
      if (call.request.fail === 'bug') throw new TypeError('oops')
      return { subject: principal.subject, roles: principal.roles }
    },
  ),
  countdown: auth.serverStream<{ from: number }, { n: number; by: string }>(
    async (call, principal) => {
      for (let n = Math.min(call.request.from, 10); n > 0; n--)
        call.write({ n, by: principal.subject })
    },
    { roles: ['internal'] },
  ),
})

type Client = InstanceType<ReturnType<typeof makeGenericClientConstructor>>
let client: Client

beforeAll(async () => {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  )
  const Demo = makeGenericClientConstructor(definition, 'Demo')
  client = new Demo(`127.0.0.1:${port}`, credentials.createInsecure())
})

afterAll(async () => {
  client.close()
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()))
})

async function bearer(subject: string, roles: Role[]): Promise<Metadata> {
  const metadata = new Metadata()
  metadata.set('authorization', `Bearer ${await mintDevToken({ secret, subject, roles, ttl: 60 })}`)
  return metadata
}

function whoAmI(request: object, metadata: Metadata): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = client['whoAmI'] as (
      request: object,
      metadata: Metadata,
      callback: (error: ServiceError | null, response: unknown) => void,
    ) => void
    call.call(client, request, metadata, (error, response) =>
      error ? reject(error) : resolve(response),
    )
  })
}

function countdown(from: number, metadata: Metadata): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const open = client['countdown'] as (
      request: object,
      metadata: Metadata,
    ) => NodeJS.ReadableStream
    const stream = open.call(client, { from }, metadata)
    const received: unknown[] = []
    stream.on('data', (message: unknown) => received.push(message))
    stream.on('error', reject)
    stream.on('end', () => resolve(received))
  })
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise
  } catch (error) {
    return error as ServiceError
  }
  throw new Error('expected the call to fail')
}

describe('gRPC handlers wrapped by createGrpcAuth', () => {
  it('passes the principal to a unary handler', async () => {
    await expect(whoAmI({}, await bearer('alice', ['user']))).resolves.toEqual({
      subject: 'alice',
      roles: ['user'],
    })
  })

  it('answers UNAUTHENTICATED without authorization metadata or with a bad token', async () => {
    const missing = await failure(whoAmI({}, new Metadata()))
    expect(missing.code).toBe(status.UNAUTHENTICATED)
    expect(missing.details).toBe('a bearer token is required')
    const forged = new Metadata()
    forged.set(
      'authorization',
      `Bearer ${await mintDevToken({ secret: generateDevSecret(), subject: 'alice', roles: ['admin'], ttl: 60 })}`,
    )
    expect((await failure(whoAmI({}, forged))).code).toBe(status.UNAUTHENTICATED)
  })

  it('answers PERMISSION_DENIED on a stream for a role that is not allowed', async () => {
    const denied = await failure(countdown(3, await bearer('alice', ['user'])))
    expect(denied.code).toBe(status.PERMISSION_DENIED)
    expect(denied.details).toBe('this operation requires one of the roles internal')
    await expect(countdown(3, await bearer('eve', ['internal']))).resolves.toEqual([
      { n: 3, by: 'eve' },
      { n: 2, by: 'eve' },
      { n: 1, by: 'eve' },
    ])
  })

  it('maps handler errors through toGrpcStatus and reports unexpected ones', async () => {
    const invalid = await failure(whoAmI({ fail: 'validation' }, await bearer('alice', ['user'])))
    expect(invalid.code).toBe(status.INVALID_ARGUMENT)
    expect(invalid.metadata.get('argmax-field')).toEqual(['fail: must be absent'])
    const bug = await failure(whoAmI({ fail: 'bug' }, await bearer('alice', ['user'])))
    expect(bug.code).toBe(status.INTERNAL)
    expect(unexpected).toEqual([new TypeError('oops')])
  })
})
