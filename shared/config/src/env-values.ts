import { z } from 'zod'

/**
 * Small zod builders for values that arrive as environment strings. Their messages are written
 * for an operator reading a crash log, e.g. `ARGMAX_HTTP_PORT: must be a whole number`.
 */

export function envString(): z.ZodString {
  return z.string().min(1, 'must not be empty')
}

export function envUrl(protocols: readonly string[]) {
  const wanted = protocols.map((p) => `${p}://`).join(' or ')
  return z.string().refine(
    (value) => {
      if (!URL.canParse(value)) return false
      return protocols.includes(new URL(value).protocol.slice(0, -1))
    },
    { message: `must be a URL starting with ${wanted}` },
  )
}

export function envInt(bounds: { min: number; max: number }) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(
      z
        .number()
        .min(bounds.min, `must be at least ${bounds.min}`)
        .max(bounds.max, `must be at most ${bounds.max}`),
    )
}

const truthy = ['true', '1', 'yes', 'on']
const falsy = ['false', '0', 'no', 'off']

export function envBool() {
  return z
    .string()
    .refine((value) => [...truthy, ...falsy].includes(value.toLowerCase()), {
      message: 'must be true or false',
    })
    .transform((value) => truthy.includes(value.toLowerCase()))
}
