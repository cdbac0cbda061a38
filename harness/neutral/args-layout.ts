// The layout of libvirt's .args files, for the real side of a comparison: virsh prints a command
// on one line (virCommandToString without line breaks); libvirt's tests print the same words with
// line breaks (virCommandToStringBuf, linebreaks=true). This module goes from virsh's line to
// that layout without using the model, so a model bug cannot hide on both sides of a diff.
// Checked against every .args file of libvirt's own tests (harness/test/text-neutral.test.ts).

/** Characters after which virBufferEscapeShell quotes a word. */
const NEEDS_QUOTES = /[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/;

export function quoteWord(word: string): string {
  if (word === '') return "''";
  return NEEDS_QUOTES.test(word) ? `'${word.split("'").join("'\\''")}'` : word;
}

/** Split a one-line shell command (bare words, '...' quoting, backslash escapes) into words. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error(`unbalanced quote in: ${line}`);
      word += line.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const ENV_WORD = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Does argument i start a new line? Options always do; a value stays on its option's line
 *  unless no option follows it anywhere (trailing bare words each get a line of their own). */
function breaksBefore(words: readonly string[], i: number, seenOption: boolean): boolean {
  if (words[i].startsWith('-')) return true;
  if (!seenOption) return true;
  return !words.slice(i - 1).some((w) => w.startsWith('-'));
}

/** Words of a command (environment assignments first) in libvirt's .args layout. */
export function layoutArgs(words: readonly string[]): string {
  const envEnd = words.findIndex((w) => !ENV_WORD.test(w));
  if (envEnd < 0) throw new Error('no command after the environment assignments');
  const lines: string[] = words.slice(0, envEnd).map((w) => {
    const eq = w.indexOf('=');
    return `${w.slice(0, eq + 1)}${quoteWord(w.slice(eq + 1))} \\`;
  });
  const cmd = words.slice(envEnd);
  let line = quoteWord(cmd[0]);
  let seenOption = false;
  for (let i = 1; i < cmd.length; i++) {
    if (breaksBefore(cmd, i, seenOption)) {
      lines.push(`${line} \\`);
      line = quoteWord(cmd[i]);
    } else line += ` ${quoteWord(cmd[i])}`;
    if (cmd[i].startsWith('-')) seenOption = true;
  }
  lines.push(line);
  return lines.join('\n') + '\n';
}
