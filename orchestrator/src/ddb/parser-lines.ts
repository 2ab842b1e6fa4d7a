/**
 * Splits raw console text into cleaned lines that remember where they came from.
 * Cleaning removes what a terminal would not show as text: ANSI escape sequences,
 * carriage returns, backspaces (with the character they erase, which removes the boot
 * loader's spinner) and other control characters except tab. Linear in the input.
 */

export interface ConsoleLine {
  /** Cleaned text. */
  text: string;
  /** Offset of the line's first character in the original text. */
  start: number;
  /** Offset just past the line (before its newline) in the original text. */
  end: number;
  /** The line was terminated by a newline (false only for a final partial line). */
  terminated: boolean;
}

const ESC = 0x1b;

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x08\x0a-\x1f\x7f]/;

export function cleanLine(raw: string): string {
  if (!CONTROL_RE.test(raw)) return raw;
  const out: number[] = [];
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === ESC) {
      const next = raw.charCodeAt(i + 1);
      if (next === 0x5b /* [ */) {
        i += 2;
        // CSI: parameters and intermediates until a final byte in @..~
        while (i < n) {
          const p = raw.charCodeAt(i);
          if (p >= 0x40 && p <= 0x7e) break;
          i++;
        }
      } else if (next === 0x28 || next === 0x29) {
        i += 2; // charset designation: ESC ( B
      } else {
        i += 1; // two-byte sequence: ESC c, ESC 7, ESC 8 ...
      }
      continue;
    }
    if (c === 0x08) {
      out.pop();
      continue;
    }
    if (c < 0x20 && c !== 0x09) continue;
    if (c === 0x7f) continue;
    out.push(c);
  }
  // String.fromCharCode with a spread overflows the stack on long lines; build in chunks.
  let s = '';
  for (let i = 0; i < out.length; i += 8192) s += String.fromCharCode(...out.slice(i, i + 8192));
  return s;
}

export function splitConsoleLines(text: string): ConsoleLine[] {
  const lines: ConsoleLine[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl;
    lines.push({ text: cleanLine(text.slice(pos, end)), start: pos, end, terminated: nl !== -1 });
    pos = end + 1;
  }
  return lines;
}
