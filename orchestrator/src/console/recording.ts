/**
 * Reads back what ConsoleRecorder wrote, so a console can be replayed with its
 * original timing (tests, reports, re-triage of old runs).
 */
import { readFileSync } from 'node:fs';
import { consoleFiles } from './recorder.ts';

export interface RecordedChunk {
  ms: number;
  offset: number;
  bytes: Buffer;
}

export interface RecordedInput {
  ms: number;
  /** Console byte offset when it was sent (what the guest had said by then). */
  offset: number;
  data: Buffer | 'break';
}

export interface ConsoleRecording {
  log: Buffer;
  chunks: RecordedChunk[];
  input: RecordedInput[];
}

export function readConsoleRecording(dir: string, vm: string): ConsoleRecording {
  const files = consoleFiles(dir, vm);
  const log = readFileSync(files.log);
  const chunks: RecordedChunk[] = [];
  forEachLine(files.times, (line, where) => {
    const m = /^(\d+) (\d+) (\d+)$/.exec(line);
    if (!m) throw new Error(`${where}: expected "<ms> <offset> <length>", got ${JSON.stringify(line)}`);
    const offset = Number(m[2]);
    const length = Number(m[3]);
    if (offset + length > log.length) throw new Error(`${where}: chunk ${offset}+${length} is beyond the end of ${files.log} (${log.length} bytes)`);
    chunks.push({ ms: Number(m[1]), offset, bytes: log.subarray(offset, offset + length) });
  });
  const input: RecordedInput[] = [];
  forEachLine(files.input, (line, where) => {
    const m = /^(\d+) (\d+) (BREAK|".*")$/.exec(line);
    if (!m) throw new Error(`${where}: expected "<ms> <offset> <JSON string>|BREAK", got ${JSON.stringify(line)}`);
    let data: Buffer | 'break';
    if (m[3] === 'BREAK') data = 'break';
    else {
      let text: unknown;
      try {
        text = JSON.parse(m[3]!);
      } catch (e) {
        throw new Error(`${where}: bad JSON string: ${(e as Error).message}`);
      }
      data = Buffer.from(String(text), 'latin1');
    }
    input.push({ ms: Number(m[1]), offset: Number(m[2]), data });
  });
  return { log, chunks, input };
}

function forEachLine(path: string, fn: (line: string, where: string) => void): void {
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line === '' || line.startsWith('#')) return;
    fn(line, `${path}:${i + 1}`);
  });
}
