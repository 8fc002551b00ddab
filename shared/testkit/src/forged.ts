const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * The same token or signed id with its signature broken: the first character after the last
 * `.` is swapped for another one. Changing the last characters instead can
 * leave the signature's bytes as they were, as a base64url string's last character carries
 * unused bits (a test that did so passed a forged JWT about once in a thousand runs).
 */
export function forged(signed: string): string {
  const at = signed.lastIndexOf('.') + 1
  if (at === 0 || at >= signed.length) throw new Error('no signature after "."')
  const swapped = BASE64URL[(BASE64URL.indexOf(signed[at]!) + 1) % BASE64URL.length]!
  return `${signed.slice(0, at)}${swapped}${signed.slice(at + 1)}`
}
