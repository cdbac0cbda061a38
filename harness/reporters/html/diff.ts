// A failure's unified diff (jsdiff's createTwoFilesPatch, runner/compare.ts) as readable HTML:
// diff2html renders it line by line with both sides' line numbers, escaping every line; its
// stylesheet is inlined once per page (no network at view time).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { html } from 'diff2html';

export function diffHtml(diff: string): string {
  // jsdiff's "Index:" / "====" preamble is no part of a unified diff diff2html expects.
  const body = diff.replace(/^(Index: .*\n)?=+\n/, '');
  return html(body, { drawFileList: false, outputFormat: 'line-by-line', matching: 'none', colorScheme: 'light' as never });
}

let css: string | null = null;
export function diffCss(): string {
  css ??= readFileSync(createRequire(import.meta.url).resolve('diff2html/bundles/css/diff2html.min.css'), 'utf8');
  return css;
}
