/**
 * Unattended install by typing at the installer's serial console (anita-style):
 * every question the installer prints is answered from the same question/answer
 * table that install.conf is rendered from, with autoinstall(8)'s matching rule;
 * unanswered questions get their default (an empty line), as autoinstall does.
 * After "CONGRATULATIONS!", the installer's shell writes the site files into /mnt
 * and powers off. A console without progress for `stallMs` fails with the screen.
 */
import type { ConsoleChannel } from '../console/types.ts';
import type { SiteFile } from './autoinstall.ts';

export type Answer = [question: string, answer: string];

/** The pending prompt: the unterminated last line, if it looks like a question. */
export function promptOf(pending: string): string | undefined {
  const last = pending.slice(pending.lastIndexOf('\n') + 1);
  if (!last.endsWith(' ') || last.trim() === '') return undefined;
  if (/\? (\(.*\) )?(\[[^\]]*\] )?$/.test(last) || /\) \[[^\]]*\] $/.test(last) || /boot> $/.test(last)) return last.trimEnd();
  return undefined;
}

/**
 * install.sub's _autorespond: the question matches when the key appears at its start
 * or after a blank, followed by a blank, a "?" or the end; case-insensitive.
 */
export function questionMatches(question: string, key: string): boolean {
  const q = question.toLowerCase();
  const k = key.toLowerCase().trim();
  let from = 0;
  for (;;) {
    const i = q.indexOf(k, from);
    if (i < 0) return false;
    const before = i === 0 || /\s/.test(q[i - 1]!);
    const after = q[i + k.length];
    if (before && (after === undefined || after === '?' || /\s/.test(after))) return true;
    from = i + 1;
  }
}

/** Parses install.conf text back into the ordered answer table. */
export function parseResponseFile(text: string): Answer[] {
  const out: Answer[] = [];
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (line.startsWith('#') || eq <= 0) continue;
    out.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

/** Takes (and removes) the first answer whose question matches, like autoinstall. */
export function takeAnswer(table: Answer[], prompt: string): string | undefined {
  const i = table.findIndex(([q]) => questionMatches(prompt, q));
  if (i < 0) return undefined;
  const [, a] = table.splice(i, 1)[0]!;
  return a;
}

/** ksh's print builtin is in the install ramdisk; printf(1) may not be. */
function kshWrite(path: string, content: string): string {
  return `print -rn -- '${content.replace(/'/g, `'\\''`)}' > '${path}'`;
}

/** Installer-shell commands that put the site files into the new system at /mnt and run install.site there. */
export function siteShellCommands(files: SiteFile[]): string[] {
  const cmds: string[] = ['mkdir -p /mnt/root/.ssh'];
  for (const f of files) {
    cmds.push(kshWrite(`/mnt/${f.path}`, f.content), `chmod ${f.mode.toString(8)} '/mnt/${f.path}'`);
  }
  if (files.some((f) => f.path === 'install.site')) cmds.push('chroot /mnt /install.site', 'rm -f /mnt/install.site');
  cmds.push('sync');
  return cmds;
}

export class InstallError extends Error {
  constructor(readonly reason: string, readonly screen: string) {
    super(`install: ${reason}\n--- last console screen ---\n${screen}`);
    this.name = 'InstallError';
  }
}

export interface InstallDriveOptions {
  /** Response table (from renderResponseFile → parseResponseFile). */
  answers: Answer[];
  siteFiles: SiteFile[];
  /** Lines typed at `boot>`: the install ramdisk's console must go to com0. */
  bootCommands?: string[];
  /** Quiet time before a trailing question is taken as a prompt. */
  quietMs?: number;
  /** No console output for this long → fail. */
  stallMs?: number;
  totalMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

const SCREEN_LINES = 25;
// The shell's echo of a command shows "$((1+1))"; only its failure output shows "2",
// so the marker cannot be matched by the echoed command line itself.
const FAIL_MARK = 'OBSDLAB-STEP-FAILED-';
const FAIL_ARITH = '1+1';
const FAIL_ARITH_VALUE = '2';

function screen(console: ConsoleChannel): string {
  return console.text().split('\n').slice(-SCREEN_LINES).join('\n');
}

/** Drives the installer from its first `boot>` to the powered-off new system. */
export async function driveInstall(console: ConsoleChannel, o: InstallDriveOptions): Promise<{ answered: { prompt: string; answer: string }[] }> {
  const table = o.answers.map(([q, a]) => [q, a] as Answer);
  const bootLines = [...(o.bootCommands ?? ['set tty com0', 'boot'])];
  const quietMs = o.quietMs ?? 1000;
  const stallMs = o.stallMs ?? 10 * 60_000;
  const deadline = Date.now() + (o.totalMs ?? 90 * 60_000);
  const pollMs = o.pollMs ?? 200;
  const answered: { prompt: string; answer: string }[] = [];
  let consumed = 0;
  let phase: 'install' | 'shell' = 'install';
  const shellQueue = siteShellCommands(o.siteFiles);
  let shellMark = 0;
  let lastAnswer: string | undefined;

  const send = async (prompt: string, answer: string) => {
    answered.push({ prompt, answer });
    o.log?.(`install: ${prompt} → ${/password/i.test(prompt) ? '<hidden>' : JSON.stringify(answer)}`);
    consumed = console.text().length;
    await console.sendLine(answer);
  };

  for (;;) {
    if (o.signal?.aborted) throw o.signal.reason;
    if (console.closed) {
      if (phase === 'shell' && shellQueue.length === 0) return { answered };
      throw new InstallError('console closed (QEMU exited) before the install finished', screen(console));
    }
    if (Date.now() > deadline) throw new InstallError('install did not finish in time', screen(console));
    if (console.idleMs() > stallMs) throw new InstallError(`no console output for ${Math.round(stallMs / 60000)} min`, screen(console));
    await new Promise((r) => setTimeout(r, pollMs));
    if (console.idleMs() < quietMs) continue;
    const text = console.text();
    const pending = text.slice(consumed);

    if (phase === 'shell') {
      if (!/# $/.test(pending)) continue;
      if (text.slice(shellMark).includes(`${FAIL_MARK}${FAIL_ARITH_VALUE}`)) {
        throw new InstallError('a site command failed in the installer shell', screen(console));
      }
      const next = shellQueue.shift();
      shellMark = text.length;
      await send('#', next ? `${next} || echo ${FAIL_MARK}$((${FAIL_ARITH}))` : 'halt -p');
      continue;
    }

    const prompt = promptOf(pending);
    if (!prompt) continue;
    // the boot loader's spinner may leave characters in front of "boot> "
    if (/boot> $/.test(pending.slice(pending.lastIndexOf('\n') + 1))) {
      await send('boot>', bootLines.shift() ?? 'boot');
    } else if (/\(I\)nstall, \(U\)pgrade, \(A\)utoinstall or \(S\)hell\?/.test(prompt)) {
      await send(prompt, 'I');
    } else if (/Exit to \(S\)hell, \(H\)alt or \(R\)eboot\?/.test(prompt)) {
      if (!/CONGRATULATIONS!/.test(text)) throw new InstallError('installer ended without "CONGRATULATIONS!"', screen(console));
      phase = 'shell';
      await send(prompt, 's');
    } else if (/\(again\)$/.test(prompt) && lastAnswer !== undefined) {
      // askpassword(): the same question a second time, "(again)"
      await send(prompt, lastAnswer);
    } else {
      lastAnswer = takeAnswer(table, prompt) ?? '';
      await send(prompt, lastAnswer);
    }
  }
}
