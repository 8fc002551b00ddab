// The demo's films as a model's inputs: each input by name, in the type its signature declares
// (a film titled 1941 is a number in the JSON file but text to the model).
export function inputsOf(metadata, film) {
  return Object.fromEntries(
    metadata.inputs.map((input) => {
      const value = film[input.name]
      if (value === undefined || value === null) return [input.name, null]
      if (input.datatype === 'BYTES') return [input.name, String(value)]
      return [input.name, typeof value === 'number' ? value : null]
    }),
  )
}
