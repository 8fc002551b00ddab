import { errors, jwtVerify, SignJWT } from 'jose'
import { UnauthenticatedError } from '@argmax/errors'
import { bearerToken } from '@argmax/auth'

/**
 * Run-scoped credentials: what a trainer calls the training API with. Minted by the training
 * service with its own HS256 secret (`ARGMAX_TRAINING_RUN_TOKEN_SECRET`), never the platform's:
 * issuer `argmax-training`, audience `argmax-training-job`, subject `run:<runId>`, claims naming
 * the run and the attempt, expiring with the run's deadline. The platform's verifier refuses it
 * (another key, issuer and audience, no role), so it opens nothing but the job routes of its
 * own run and attempt.
 */
export const RUN_TOKEN_ISSUER = 'argmax-training'
export const RUN_TOKEN_AUDIENCE = 'argmax-training-job'

export interface RunClaims {
  runId: string
  attempt: number
}

export interface RunTokens {
  mint(claims: RunClaims & { expiresAt: Date }): Promise<string>
  /** From an `Authorization` header; throws UnauthenticatedError. */
  verify(authorization: string | undefined): Promise<RunClaims>
}

export function createRunTokens(secret: string, now: () => Date = () => new Date()): RunTokens {
  const key = new TextEncoder().encode(secret)
  return {
    async mint({ runId, attempt, expiresAt }) {
      const issuedAt = Math.floor(now().getTime() / 1000)
      return new SignJWT({ run: runId, attempt })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(`run:${runId}`)
        .setIssuer(RUN_TOKEN_ISSUER)
        .setAudience(RUN_TOKEN_AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(Math.max(issuedAt + 60, Math.ceil(expiresAt.getTime() / 1000)))
        .sign(key)
    },
    async verify(authorization) {
      const token = bearerToken(authorization)
      let payload
      try {
        ;({ payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: RUN_TOKEN_ISSUER,
          audience: RUN_TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'exp', 'run', 'attempt'],
          currentDate: now(),
          clockTolerance: 30,
        }))
      } catch (error) {
        const reason = error instanceof errors.JOSEError ? error.message : String(error)
        throw new UnauthenticatedError(`not a valid run token: ${reason}`)
      }
      const runId = payload['run']
      const attempt = payload['attempt']
      if (
        typeof runId !== 'string' ||
        !Number.isInteger(attempt) ||
        payload.sub !== `run:${runId}`
      ) {
        throw new UnauthenticatedError('not a valid run token: malformed claims')
      }
      return { runId, attempt: attempt as number }
    },
  }
}
