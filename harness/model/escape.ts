// Text and attribute values as virBufferEscapeString writes them into the XML. One module for
// every formatter (each had its own copy).
const SPECIAL = /[&<>'"]/;

/** &, <, >, ' and " as entities; most values (names, paths, machine types) have none of them,
 *  and one test is cheaper than five replace passes. */
export const esc = (s: string): string =>
  SPECIAL.test(s)
    ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;')
    : s;
