// The model reads the same plain element tree as everything else (harness/xml/tree.ts).
export * from '../xml/tree.js';
