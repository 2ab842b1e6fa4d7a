/**
 * Test harness: a fake serial peer that plays a recorded ddb session the way
 * QEMU's `-chardev socket,server=on` would carry it. It listens on a unix
 * socket, sends the recorded console output, then for every line typed at it
 * echoes the line and answers with the recorded response (which ends with the
 * next prompt). Responses are looked up by (prompt CPU, command), in recorded
 * order, so a driver may run the commands in a different order than the
 * developer did.
 *
 * Commands the recording does not have get ddb's answer to an unknown command
 * (`No such command`, ddb/db_command.c), or an empty answer for the `quiet`
 * ones (`set $lines = 0` prints nothing: see the syzbot transcripts). A step
 * marked `wedge` (the recording ends there, as `machine ddbcpu 1` does when
 * cpu1 never stopped) and the `silent` commands of a test leave the peer
 * deaf for good: a wedged ddb.
 */
import { once } from 'node:events';
import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

export interface RecordedStep {
  /** CPU of the prompt the command was typed at (null: `ddb> `). */
  cpu: number | null;
  command: string;
  /** Bytes after the echoed command, up to and including the next prompt (latin1 string). */
  response: string;
  /** The recording ends without a prompt: ddb never answered again. */
  wedge?: boolean;
}

export interface RecordedDdbSession {
  /** Where the bytes come from (corpus file and what was cut). */
  source: string;
  /** Console output up to and including the first prompt of the session (latin1 string). */
  console: string;
  steps: RecordedStep[];
  /** Commands ddb answers with nothing but a new prompt. */
  quiet?: string[];
}

export interface FakePeerOptions {
  socketPath: string;
  /** Commands that hang ddb: echoed, never answered, and nothing after them is answered either. */
  silent?: string[];
  /** Milliseconds to wait before answering these commands (a slow but live ddb). */
  delays?: Record<string, number>;
  /** Split every write into pieces of at most this many bytes, sent on separate ticks. */
  chunkSize?: number;
}

export interface FakeDdbPeer {
  readonly socketPath: string;
  /** Lines typed at the peer, in order (without the CR). */
  readonly typed: string[];
  /** Mux escapes (Ctrl-a b) received. */
  readonly breaks: number;
  /** Resolves once a client has connected and the console output has been sent. */
  readonly consoleSent: Promise<void>;
  close(): Promise<void>;
}

const PROMPT_AT_END = /ddb(?:\{(\d+)\})?> $/;

export async function startFakeDdbPeer(session: RecordedDdbSession, opts: FakePeerOptions): Promise<FakeDdbPeer> {
  const used = new Set<number>();
  const typed: string[] = [];
  let breaks = 0;
  let deaf = false;
  let cpu = cpuOfPrompt(session.console);
  let client: Socket | null = null;
  let markSent: () => void = () => {};
  const consoleSent = new Promise<void>((r) => (markSent = r));
  const timers = new Set<NodeJS.Timeout>();

  const write = async (sock: Socket, text: string) => {
    const bytes = Buffer.from(text, 'latin1');
    const size = opts.chunkSize ?? bytes.length;
    for (let i = 0; i < bytes.length; i += Math.max(1, size)) {
      if (sock.destroyed) return;
      sock.write(bytes.subarray(i, i + Math.max(1, size)));
      if (opts.chunkSize) await new Promise((r) => setImmediate(r));
    }
  };

  const answer = async (sock: Socket, line: string) => {
    typed.push(line);
    if (deaf) return;
    await write(sock, line);
    if (opts.silent?.includes(line)) {
      await write(sock, '\r\n');
      deaf = true;
      return;
    }
    const idx = session.steps.findIndex((s, i) => !used.has(i) && s.command === line && s.cpu === cpu);
    let response: string;
    if (idx >= 0) {
      used.add(idx);
      const step = session.steps[idx]!;
      response = step.response;
      if (step.wedge) deaf = true;
    } else {
      const prompt = cpu === null ? 'ddb> ' : `ddb{${cpu}}> `;
      const quiet = session.quiet?.includes(line) || line.trim() === '';
      response = quiet ? `\r\n\r${prompt}` : `\r\n\rNo such command\r\n\r${prompt}`;
    }
    const next = PROMPT_AT_END.exec(response);
    if (next) cpu = next[1] !== undefined ? Number(next[1]) : null;
    const delay = opts.delays?.[line] ?? 0;
    if (delay > 0) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => {
          timers.delete(t);
          r();
        }, delay);
        timers.add(t);
      });
    }
    await write(sock, response);
  };

  const server: Server = createServer((sock) => {
    if (client) {
      sock.destroy();
      return;
    }
    client = sock;
    let pending = Buffer.alloc(0);
    let queue = Promise.resolve();
    sock.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const ca = pending.indexOf(0x01);
        const cr = pending.indexOf(0x0d);
        if (ca >= 0 && (cr < 0 || ca < cr) && ca + 1 < pending.length) {
          // QEMU mux escape: Ctrl-a b is a BREAK, Ctrl-a Ctrl-a a literal 0x01.
          if (pending[ca + 1] === 0x62) breaks++;
          pending = Buffer.concat([pending.subarray(0, ca), pending[ca + 1] === 0x01 ? Buffer.from([1]) : Buffer.alloc(0), pending.subarray(ca + 2)]);
          continue;
        }
        if (cr < 0) break;
        const line = pending.subarray(0, cr).toString('latin1');
        pending = pending.subarray(cr + 1);
        queue = queue.then(() => answer(sock, line));
      }
    });
    sock.on('error', () => {});
    void write(sock, session.console).then(markSent);
  });
  try {
    unlinkSync(opts.socketPath);
  } catch {
    // no stale socket
  }
  server.listen(opts.socketPath);
  await once(server, 'listening');

  return {
    socketPath: opts.socketPath,
    typed,
    get breaks() {
      return breaks;
    },
    consoleSent,
    async close() {
      for (const t of timers) clearTimeout(t);
      (client as Socket | null)?.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function cpuOfPrompt(text: string): number | null {
  const m = PROMPT_AT_END.exec(text);
  return m?.[1] !== undefined ? Number(m[1]) : null;
}

/**
 * Splits a raw serial transcript into a recorded session: the console up to
 * the first prompt at or after `from` (a byte offset), then one step per
 * command typed at a prompt. The last step's response runs to the end of the
 * file; if it has no prompt and is not a `boot` command, ddb never answered.
 */
export function sessionFromTranscript(raw: Buffer, source: string, from = 0, quiet: string[] = []): RecordedDdbSession {
  const text = raw.toString('latin1');
  const promptRe = /ddb(?:\{(\d+)\})?> /g;
  promptRe.lastIndex = from;
  const prompts: { end: number; cpu: number | null }[] = [];
  for (let m = promptRe.exec(text); m; m = promptRe.exec(text)) {
    prompts.push({ end: m.index + m[0].length, cpu: m[1] !== undefined ? Number(m[1]) : null });
  }
  if (prompts.length === 0) throw new Error(`${source}: no ddb prompt after byte ${from}`);
  const steps: RecordedStep[] = [];
  prompts.forEach((p, i) => {
    const rest = /[\r\n]/.exec(text.slice(p.end));
    const eol = rest ? p.end + rest.index : -1;
    if (eol < 0 || eol === p.end) return;
    const command = text.slice(p.end, eol);
    const next = prompts[i + 1];
    const response = text.slice(eol, next ? next.end : text.length);
    const step: RecordedStep = { cpu: p.cpu, command, response };
    if (!next && !/^boot\b/.test(command)) step.wedge = true;
    steps.push(step);
  });
  return { source, console: text.slice(0, prompts[0]!.end), steps, quiet };
}
