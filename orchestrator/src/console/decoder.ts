/**
 * Byte-level decoding of a serial console stream: UTF-8 (across chunk
 * boundaries), ANSI/VT100 escape sequences stripped, NULs and other
 * non-printing controls dropped. What remains is handed to a sink as
 * printable characters and the three line-editing controls a console
 * uses (CR, LF, BS), each with the raw byte offset just after it.
 */

export interface DecodedSink {
  print(ch: string, rawEnd: number): void;
  carriageReturn(rawEnd: number): void;
  lineFeed(rawEnd: number): void;
  backspace(rawEnd: number): void;
}

const REPLACEMENT = '\uFFFD';

/** Longest escape sequence we keep swallowing; a broken one must not eat the console. */
const MAX_CSI_BYTES = 64;
const MAX_STRING_BYTES = 512;

type EscState = 'ground' | 'esc' | 'escIntermediate' | 'csi' | 'string' | 'stringEsc';

export class ConsoleDecoder {
  private state: EscState = 'ground';
  private seqBytes = 0;
  private utf8Need = 0;
  private utf8Cp = 0;
  private utf8Min = 0;
  private offset: number;

  constructor(startOffset = 0) {
    this.offset = startOffset;
  }

  /** Raw offset of the next byte to be fed. */
  get rawOffset(): number {
    return this.offset;
  }

  feed(bytes: Uint8Array, sink: DecodedSink): void {
    const base = this.offset;
    for (let i = 0; i < bytes.length; i++) {
      this.byte(bytes[i]!, base + i + 1, sink);
    }
    this.offset = base + bytes.length;
  }

  private byte(b: number, end: number, sink: DecodedSink): void {
    if (this.utf8Need > 0) {
      if ((b & 0xc0) === 0x80) {
        this.utf8Cp = (this.utf8Cp << 6) | (b & 0x3f);
        if (--this.utf8Need === 0) this.codePoint(this.utf8Cp, end, sink);
        return;
      }
      // Truncated sequence: it becomes one replacement character, and this byte starts afresh.
      this.utf8Need = 0;
      sink.print(REPLACEMENT, end - 1);
    }
    if (this.state !== 'ground') {
      this.escapeByte(b);
      return;
    }
    if (b < 0x80) {
      this.ascii(b, end, sink);
    } else if (b >= 0xc2 && b <= 0xdf) {
      this.startUtf8(b & 0x1f, 1, 0x80);
    } else if (b >= 0xe0 && b <= 0xef) {
      this.startUtf8(b & 0x0f, 2, 0x800);
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.startUtf8(b & 0x07, 3, 0x10000);
    } else {
      sink.print(REPLACEMENT, end);
    }
  }

  private startUtf8(bits: number, need: number, min: number): void {
    this.utf8Cp = bits;
    this.utf8Need = need;
    this.utf8Min = min;
  }

  private codePoint(cp: number, end: number, sink: DecodedSink): void {
    if (cp < this.utf8Min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      sink.print(REPLACEMENT, end);
    } else if (cp >= 0x80 && cp <= 0x9f) {
      // C1 controls: never printable.
    } else {
      sink.print(String.fromCodePoint(cp), end);
    }
  }

  private ascii(b: number, end: number, sink: DecodedSink): void {
    if (b >= 0x20 && b < 0x7f) {
      sink.print(String.fromCharCode(b), end);
      return;
    }
    switch (b) {
      case 0x09:
        sink.print('\t', end);
        return;
      case 0x0a:
      case 0x0b:
      case 0x0c:
        sink.lineFeed(end);
        return;
      case 0x0d:
        sink.carriageReturn(end);
        return;
      case 0x08:
        sink.backspace(end);
        return;
      case 0x1b:
        this.state = 'esc';
        this.seqBytes = 0;
        return;
      default:
        // NUL, BEL, DEL and the other C0 controls print nothing.
        return;
    }
  }

  private escapeByte(b: number): void {
    this.seqBytes++;
    if (b === 0x18 || b === 0x1a) {
      this.state = 'ground';
      return;
    }
    switch (this.state) {
      case 'esc':
        if (b === 0x5b) this.state = 'csi';
        else if (b === 0x5d || b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) this.state = 'string';
        else if (b >= 0x20 && b <= 0x2f) this.state = 'escIntermediate';
        else if (b === 0x1b) this.seqBytes = 0;
        else this.state = 'ground';
        return;
      case 'escIntermediate':
        if (b >= 0x30 && b <= 0x7e) this.state = 'ground';
        else if (b < 0x20 || b > 0x2f || this.seqBytes > MAX_CSI_BYTES) this.state = 'ground';
        return;
      case 'csi':
        if (b >= 0x40 && b <= 0x7e) this.state = 'ground';
        else if (b === 0x1b) {
          this.state = 'esc';
          this.seqBytes = 0;
        } else if (this.seqBytes > MAX_CSI_BYTES) this.state = 'ground';
        return;
      case 'string':
        if (b === 0x07) this.state = 'ground';
        else if (b === 0x1b) this.state = 'stringEsc';
        else if (this.seqBytes > MAX_STRING_BYTES) this.state = 'ground';
        return;
      case 'stringEsc':
        this.state = b === 0x5c ? 'ground' : 'string';
        return;
      case 'ground':
        return;
    }
  }
}
