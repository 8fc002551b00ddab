import { expect } from 'vitest'

interface Decider<Command, Event, State> {
  decide: (command: Command, state: State) => Event[]
  evolve: (state: State, event: Event) => State
  initialState: State
}

/** given(events).when(command).then(expected events) / .thenThrows(ErrorClass, message?) */
export function spec<Command, Event, State>(decider: Decider<Command, Event, State>) {
  return {
    given(events: Event[]) {
      const state = events.reduce(decider.evolve, decider.initialState)
      return {
        when(command: Command) {
          const run = () => decider.decide(command, state)
          return {
            then(expected: Event[]) {
              expect(run()).toEqual(expected)
            },
            thenThrows(errorClass: new (...args: never[]) => Error, message?: RegExp) {
              let caught: unknown
              try {
                run()
              } catch (error) {
                caught = error
              }
              expect(caught).toBeInstanceOf(errorClass)
              if (message) expect((caught as Error).message).toMatch(message)
            },
          }
        },
      }
    },
  }
}
