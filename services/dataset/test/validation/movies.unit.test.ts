import { describe, expect, it } from 'vitest'
import type { ValidationSuccess } from '../../src/validation/index.ts'
import { loadMovies, moviesAsCsv, moviesAsJsonl } from './movies-fixture.ts'
import { expectOk, validate } from './validation-helpers.ts'

const movies = loadMovies()

function column(result: ValidationSuccess, name: string) {
  const profile = result.profile.columns.find((c) => c.name === name)
  if (!profile) throw new Error(`no column ${name}`)
  return profile
}

describe.each([
  ['csv', moviesAsCsv(movies)],
  ['jsonl', moviesAsJsonl(movies)],
] as const)('the vega-datasets movies as %s', (format, content) => {
  it('is VALIDATED with a sensible schema', async () => {
    const result = expectOk(await validate(content, format))
    expect(movies).toHaveLength(3201)
    expect(result.rowCount).toBe(3201)
    expect(Object.fromEntries(result.schema.map((c) => [c.name, [c.type, c.nullable]]))).toEqual({
      Title: ['string', true],
      'US Gross': ['integer', true],
      'Worldwide Gross': ['integer', true],
      'US DVD Sales': ['integer', true],
      'Production Budget': ['integer', true],
      // "Jun 12 1998" is not ISO-8601, so it stays text.
      'Release Date': ['string', false],
      'MPAA Rating': ['string', true],
      'Running Time min': ['integer', true],
      Distributor: ['string', true],
      Source: ['string', true],
      'Major Genre': ['string', true],
      'Creative Type': ['string', true],
      Director: ['string', true],
      'Rotten Tomatoes Rating': ['integer', true],
      'IMDB Rating': ['float', true],
      'IMDB Votes': ['integer', true],
    })
  })

  it('has a profile that agrees with the data', async () => {
    const result = expectOk(await validate(content, format))
    const imdb = movies.map((m) => m['IMDB Rating']).filter((v): v is number => v !== null)
    const rating = column(result, 'IMDB Rating')
    expect(rating).toMatchObject({ count: imdb.length, nulls: 3201 - imdb.length })
    expect(rating.numeric!.min).toBe(Math.min(...imdb))
    expect(rating.numeric!.max).toBe(Math.max(...imdb))
    const mean = imdb.reduce((a, b) => a + b, 0) / imdb.length
    expect(rating.numeric!.mean).toBeCloseTo(mean, 9)
    expect(rating.numeric!.histogram.reduce((a, b) => a + b.count, 0)).toBe(imdb.length)

    const genres = new Set(movies.map((m) => m['Major Genre']).filter((g) => g !== null))
    const genre = column(result, 'Major Genre')
    expect(genre.distinct).toBe(genres.size)
    expect(genre.topValues.slice(0, 3).map((t) => t.value)).toEqual(['Drama', 'Comedy', 'Action'])
    expect(genre.topValues[0]!.count).toBe(
      movies.filter((m) => m['Major Genre'] === 'Drama').length,
    )
    expect(column(result, 'MPAA Rating').topValues[0]).toEqual({
      value: 'R',
      count: movies.filter((m) => m['MPAA Rating'] === 'R').length,
    })
  })
})

it('profiles the movies the same from CSV and from JSON Lines', async () => {
  const fromCsv = expectOk(await validate(moviesAsCsv(movies), 'csv'))
  const fromJsonl = expectOk(await validate(moviesAsJsonl(movies), 'jsonl'))
  expect(fromCsv.schema).toEqual(fromJsonl.schema)
  expect(fromCsv.profile).toEqual(fromJsonl.profile)
})
