/** Seeded console noise for the parser's robustness tests and its benchmark. */

import { seededRandom as mulberry32 } from '../../src/util/random.ts';

export { mulberry32 };

/**
 * About `size` characters of console-like text: lines of real transcripts (shuffled and
 * in runs), whole transcripts, random bytes, ANSI escapes, long lines and CRs.
 */
export function consoleNoise(rnd: () => number, size: number, transcripts: string[]): string {
  const lines = transcripts.flatMap((t) => t.split('\n'));
  const parts: string[] = [];
  let total = 0;
  while (total < size) {
    const pick = rnd();
    let chunk: string;
    if (pick < 0.6) {
      const start = Math.floor(rnd() * lines.length);
      chunk = lines.slice(start, start + 1 + Math.floor(rnd() * 40)).join('\n') + '\n';
    } else if (pick < 0.7) {
      chunk = transcripts[Math.floor(rnd() * transcripts.length)]! + '\n';
    } else if (pick < 0.85) {
      let s = '';
      const n = Math.floor(rnd() * 300);
      for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rnd() * 128));
      chunk = s + '\n';
    } else if (pick < 0.95) {
      chunk = '\x1b[2J\x1b[10;02H' + '|\b/\b-\b\\\b'.repeat(Math.floor(rnd() * 200)) + '\r\n';
    } else {
      chunk = 'ddb{0}> ' + 'a'.repeat(Math.floor(rnd() * 5000)) + '\n';
    }
    parts.push(chunk);
    total += chunk.length;
  }
  return parts.join('');
}
