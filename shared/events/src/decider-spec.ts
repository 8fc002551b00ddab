import type { Decider } from './command-handler.ts'
import type { NewEvent } from './envelope.ts'

type ErrorClass = abstract new (...args: never[]) => Error

/**
 * Given/when/then for pure deciders, with no test framework inside: `then` and `thenThrows`
 * throw an Error describing the mismatch, which every runner reports as a failure.
 */
export function deciderSpec<Command, Event extends NewEvent, State>(
  decider: Decider<Command, Event, State>,
) {
  return {
    given(history: Event[]) {
      const state = history.reduce((s, e) => decider.evolve(s, e), decider.initialState)
      return {
        when(command: Command) {
          const run = () => decider.decide(command, state)
          return {
            then(expected: Event[]): void {
              const actual = run()
              if (JSON.stringify(actual) !== JSON.stringify(expected)) {
                throw new Error(
                  `expected events ${JSON.stringify(expected)}\n   but got ${JSON.stringify(actual)}`,
                )
              }
            },
            thenThrows(errorClass: ErrorClass, message?: string | RegExp): void {
              let thrown: unknown
              try {
                run()
              } catch (error) {
                thrown = error
              }
              if (!(thrown instanceof errorClass)) {
                throw new Error(`expected ${errorClass.name} but got ${String(thrown)}`)
              }
              const text = thrown.message
              const matches =
                message === undefined ||
                (typeof message === 'string' ? text.includes(message) : message.test(text))
              if (!matches) throw new Error(`expected message ${String(message)} but got "${text}"`)
            },
          }
        },
      }
    },
  }
}
