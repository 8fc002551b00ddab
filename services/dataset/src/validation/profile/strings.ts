/**
 * V8 may keep a string cut from a longer one (a field split from its line) as a window onto
 * that line. Values kept beyond the current row are copied so that a huge line cannot stay
 * alive through a short value taken from it.
 */
export function detach(s: string): string {
  // V8 only makes such windows for strings of 13 characters or more.
  // Slicing a fresh concatenation makes V8 flatten it into a new string of its own.
  return s.length < 13 ? s : (' ' + s).slice(1)
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`
}
