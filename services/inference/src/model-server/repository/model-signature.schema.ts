import { z } from 'zod'
import { TENSOR_DATATYPES, type ModelSignature } from '@argmax/contracts'

/**
 * `ModelSignature` (from @argmax/contracts) as a zod schema, for signatures that arrive as JSON
 * (a repository load's config). Fields this version does not know are dropped rather than
 * refused, so the registry can add to the contract without breaking running model servers.
 */
export const tensorSpecSchema = z.object({
  name: z.string().min(1, 'must not be empty'),
  datatype: z.enum(TENSOR_DATATYPES),
  shape: z.array(z.number().int().min(-1, 'must be -1 (variable) or a size ≥ 0')),
  nullable: z.boolean(),
  column: z.string().optional(),
  categories: z.array(z.string()).optional(),
})

const uniqueNames = (specs: { name: string }[]) =>
  new Set(specs.map((spec) => spec.name)).size === specs.length

export const modelSignatureSchema = z.object({
  task: z.enum(['regression', 'classification']),
  inputs: z
    .array(tensorSpecSchema)
    .min(1, 'must name at least one input')
    .refine(uniqueNames, 'must not name an input twice'),
  outputs: z
    .array(tensorSpecSchema)
    .min(1, 'must name at least one output')
    .refine(uniqueNames, 'must not name an output twice'),
  classes: z.array(z.string()).optional(),
}) satisfies z.ZodType<ModelSignature>
