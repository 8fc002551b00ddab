import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { repoRoot } from '../stack/paths.ts'

/**
 * The simulated world of `argmax demo loop`, seeded, so two runs with the same seed send the
 * same films, inputs, labels and request ids. The README states it:
 *
 * - **Drift.** The films are the movies dataset's, their figures a few years on: IMDB votes ×4,
 *   production budget ×1.5, US and worldwide gross ×1.3.
 * - **Shift.** The audience rates differently now: the true rating of an action, adventure,
 *   thriller, horror or comedy film is 1.0 lower than the dataset's, of any other film 0.3
 *   lower (kept within 1–10, to a tenth).
 * - **The label bug** (round two): one batch of labels comes from a broken labelling job that
 *   adds 2.5 to the rating of every R-rated film. Live labels are the true ones.
 */

export const TARGET = 'IMDB Rating'
export const MODEL = 'movies'

export type Film = Record<string, unknown>

const DRIFT: Record<string, number> = {
  'IMDB Votes': 4,
  'Production Budget': 1.5,
  'US Gross': 1.3,
  'Worldwide Gross': 1.3,
}
const HARSHER_GENRES = new Set(['Action', 'Adventure', 'Thriller/Suspense', 'Horror', 'Comedy'])
export const SHIFT = { harsher: 1.0, others: 0.3 }
export const LABEL_BUG = { mpaa: 'R', add: 2.5 }

/** The films of the movies demo dataset (vega-datasets, as scripts/demo.sh uploads them). */
export function loadFilms(): Film[] {
  return JSON.parse(readFileSync(moviesJsonPath(), 'utf8')) as Film[]
}

export function moviesJsonPath(): string {
  const require = createRequire(join(repoRoot, 'services/dataset/package.json'))
  return join(dirname(require.resolve('vega-datasets')), '../data/movies.json')
}

/** mulberry32: a small seeded generator, enough to pick films reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const tenth = (x: number) => Math.round(x * 10) / 10

/** The film as it is seen now: its figures drifted. */
export function driftedFilm(film: Film): Film {
  const drifted: Film = { ...film }
  for (const [column, factor] of Object.entries(DRIFT)) {
    const value = film[column]
    if (typeof value === 'number') drifted[column] = Math.round(value * factor)
  }
  return drifted
}

/** What the audience now rates the film (the ground truth the demo's labels carry). */
export function trueRating(film: Film): number {
  const rating = film[TARGET] as number
  const shift = HARSHER_GENRES.has(String(film['Major Genre'])) ? SHIFT.harsher : SHIFT.others
  return tenth(Math.min(10, Math.max(1, rating - shift)))
}

/** The broken labelling job's value for the film (round two's batch). */
export function buggyRating(film: Film): number {
  const truth = trueRating(film)
  return film['MPAA Rating'] === LABEL_BUG.mpaa ? tenth(Math.min(10, truth + LABEL_BUG.add)) : truth
}

export interface WorldSample {
  requestId: string
  films: Film[]
}

/**
 * The world's traffic: requests of `batch` drifted films each, drawn with replacement from the
 * films with a rating, by a generator seeded with `seed`; request ids are numbered, so the
 * canary split (a hash of the request id) is the same in every run of a seed.
 */
export function createWorld(films: Film[], seed: number) {
  const rated = films.filter((f) => typeof f[TARGET] === 'number' && f['Title'] !== null)
  if (rated.length === 0) throw new Error('the movies dataset has no rated films')
  const random = seededRandom(seed)
  let requests = 0
  return {
    seed,
    next(batch: number): WorldSample {
      requests += 1
      const chosen = Array.from({ length: batch }, () =>
        driftedFilm(rated[Math.floor(random() * rated.length)]!),
      )
      return { requestId: `demo-loop-${seed}-${requests}`, films: chosen }
    },
  }
}

export type World = ReturnType<typeof createWorld>

/** Signature input as the gateway's metadata describes it. */
export interface ModelInput {
  name: string
  datatype: string
}

/**
 * A film as the model's inputs: each input by name, in the type its signature declares (a film
 * titled 1941 is a number in the JSON file but text to the model). As scripts/demo-rows.mjs.
 */
export function inputsOf(inputs: ModelInput[], film: Film): Record<string, unknown> {
  return Object.fromEntries(
    inputs.map((input) => {
      const value = film[input.name]
      if (value === undefined || value === null) return [input.name, null]
      if (input.datatype === 'BYTES') return [input.name, String(value)]
      return [input.name, typeof value === 'number' ? value : null]
    }),
  )
}
