/**
 * Removes U+0000 characters. PostgreSQL `text` cannot hold them (COPY and bind parameters both
 * refuse the string), and they carry no meaning in a tweet.
 */
export function stripNulCharacters(text: string): string {
  // indexOf is a native scan: the common case (no NUL) costs no allocation.
  return text.indexOf('\u0000') === -1 ? text : text.replaceAll('\u0000', '');
}
