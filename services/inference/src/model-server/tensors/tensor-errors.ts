import { ValidationError } from '@argmax/errors'

/** The field a tensor's problems are reported under: `inputs/<name>` (names may hold spaces). */
export function inputField(name: string): string {
  return `inputs/${name}`
}

/** A refusal naming the input it is about, e.g. `inputs/budget: needs 8 bytes, got 7`. */
export function inputError(name: string, message: string): ValidationError {
  return ValidationError.field(inputField(name), message)
}
