/**
 * Gives back its class to an object that crossed a worker boundary: a structured clone keeps
 * an object's own fields (typed arrays, Maps and shared references included) but not its
 * prototype. Only for classes whose state is all in their own fields.
 */
export function revive<T extends object>(clone: T, type: abstract new (...args: never[]) => T): T {
  return Object.setPrototypeOf(clone, type.prototype as object) as T
}
