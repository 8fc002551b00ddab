import { describe, expect, it } from 'vitest'
import {
  buggyRating,
  createWorld,
  driftedFilm,
  inputsOf,
  loadFilms,
  trueRating,
} from '../../src/demo/world.ts'

const films = loadFilms()

describe('the demo loop world', () => {
  it('is the same world for the same seed: films, request ids and all', () => {
    const a = createWorld(films, 11)
    const b = createWorld(films, 11)
    const c = createWorld(films, 12)
    const take = (w: ReturnType<typeof createWorld>) => [w.next(5), w.next(5), w.next(5)]
    const first = take(a)
    expect(take(b)).toEqual(first)
    expect(take(c)).not.toEqual(first)
    expect(first.map((s) => s.requestId)).toEqual([
      'demo-loop-11-1',
      'demo-loop-11-2',
      'demo-loop-11-3',
    ])
    expect(first.every((s) => s.films.length === 5)).toBe(true)
  })

  it('drifts the figures and keeps the rest of the film', () => {
    const film = {
      Title: 'Heat',
      'IMDB Votes': 1000,
      'Production Budget': 60_000_000,
      'US Gross': 67_000_000,
      'Worldwide Gross': 187_000_000,
      'Running Time min': 170,
      'IMDB Rating': 8.2,
      'Major Genre': 'Action',
    }
    expect(driftedFilm(film)).toEqual({
      ...film,
      'IMDB Votes': 4000,
      'Production Budget': 90_000_000,
      'US Gross': 87_100_000,
      'Worldwide Gross': 243_100_000,
    })
  })

  it('rates harsher genres a point lower, others 0.3 lower, within 1–10; the bug adds 2.5 to R-rated films', () => {
    expect(trueRating({ 'IMDB Rating': 8.2, 'Major Genre': 'Action' })).toBe(7.2)
    expect(trueRating({ 'IMDB Rating': 8.2, 'Major Genre': 'Drama' })).toBe(7.9)
    expect(trueRating({ 'IMDB Rating': 1.4, 'Major Genre': 'Horror' })).toBe(1)
    expect(buggyRating({ 'IMDB Rating': 8.2, 'Major Genre': 'Drama', 'MPAA Rating': 'R' })).toBe(10)
    expect(buggyRating({ 'IMDB Rating': 6, 'Major Genre': 'Drama', 'MPAA Rating': 'R' })).toBe(8.2)
    expect(buggyRating({ 'IMDB Rating': 6, 'Major Genre': 'Drama', 'MPAA Rating': 'PG' })).toBe(5.7)
  })

  it("gives the model its inputs in the signature's types", () => {
    const inputs = [
      { name: 'Title', datatype: 'BYTES' },
      { name: 'IMDB Votes', datatype: 'FP32' },
      { name: 'Director', datatype: 'BYTES' },
    ]
    expect(inputsOf(inputs, { Title: 1941, 'IMDB Votes': 12, 'IMDB Rating': 5 })).toEqual({
      Title: '1941',
      'IMDB Votes': 12,
      Director: null,
    })
  })
})
