/**
 * The lab agent's command syntax and output formats (pure): rendering of
 * agent command lines and parsers for its replies, written against the real
 * transcripts in corpus/real/openbsd-lab-agent-*-dut.txt.
 */
import type { CounterSnapshot, KernelProfile, SpliceRelayStats } from './adapter.ts';

export const AGENT_PROMPT = 'labinit> ';
export const AGENT_READY = /^labinit: ready$/m;

/** Refuses anything that could split one agent command into two or smuggle arguments. */
function token(what: string, value: string, re: RegExp): string {
  if (!re.test(value)) throw new Error(`openbsd-lab: bad ${what} ${JSON.stringify(value)}`);
  return value;
}

const IFNAME = /^[a-z]+[0-9]+$/;
const INET_PREFIX = /^\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}$/;
const INET6_PREFIX = /^[0-9a-fA-F:]+(?::\d{1,3}(?:\.\d{1,3}){3})?\/\d{1,3}$/;
const ADDR = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]+)$/;
const SYSCTL_NAME = /^[a-z][a-z0-9_.]*$/;
const SYSCTL_VALUE = /^-?\d+$/;

export const agentCommand = {
  ifconfigShow: (ifname?: string) => (ifname ? `ifconfig ${token('interface', ifname, IFNAME)}` : 'ifconfig'),
  ifconfigUp: (ifname: string, up = true) => `ifconfig ${token('interface', ifname, IFNAME)} ${up ? 'up' : 'down'}`,
  ifconfigMtu: (ifname: string, mtu: number) => {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new Error(`openbsd-lab: bad mtu ${mtu}`);
    return `ifconfig ${token('interface', ifname, IFNAME)} mtu ${mtu}`;
  },
  /** inet or inet6 from the address; a CIDR prefix length is required. */
  ifconfigAddr: (ifname: string, cidr: string) => {
    if (INET_PREFIX.test(cidr)) return `ifconfig ${token('interface', ifname, IFNAME)} inet ${cidr}`;
    if (cidr.includes(':') && INET6_PREFIX.test(cidr)) return `ifconfig ${token('interface', ifname, IFNAME)} inet6 ${cidr}`;
    throw new Error(`openbsd-lab: address ${JSON.stringify(cidr)} is not ADDR/LEN`);
  },
  routeAdd: (dest: string, gateway: string) => {
    if (dest !== 'default' && !INET_PREFIX.test(dest) && !(dest.includes(':') && INET6_PREFIX.test(dest))) {
      throw new Error(`openbsd-lab: route destination ${JSON.stringify(dest)} is not DEST/LEN or default`);
    }
    return `route add ${dest} ${token('gateway', gateway, ADDR)}`;
  },
  sysctlGet: (name?: string) => (name ? `sysctl ${token('sysctl name', name, SYSCTL_NAME)}` : 'sysctl'),
  sysctlSet: (name: string, value: string | number) =>
    `sysctl ${token('sysctl name', name, SYSCTL_NAME)}=${token('sysctl value (the agent sets integers only)', String(value), SYSCTL_VALUE)}`,
  pf: (on: boolean) => `pf ${on ? 'on' : 'off'}`,
  netstat: () => 'netstat',
  /** pool.c: kern.pool as the pool table of vmstat -m (load/vmstat.ts parses it). */
  pools: () => 'pools',
  profile: (seconds: number, top?: number) => {
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new Error(`openbsd-lab: profile seconds ${seconds} outside 1..3600`);
    if (top !== undefined && (!Number.isInteger(top) || top < 1)) throw new Error(`openbsd-lab: bad profile top ${top}`);
    return top === undefined ? `profile ${seconds}` : `profile ${seconds} ${top}`;
  },
  ddb: () => 'ddb',
  halt: () => 'halt',
  poweroff: () => 'poweroff',
  reboot: () => 'reboot',
  sleep: (seconds: number) => {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 86400) throw new Error(`openbsd-lab: bad sleep ${seconds}`);
    return `sleep ${seconds}`;
  },
  /** splice.c: a SO_SPLICE relay from PORT (any address of ADDR's family) to ADDR:FPORT, ending after SECONDS. */
  spliceStart: (port: number, target: string, targetPort: number, seconds: number) => {
    for (const [what, p] of [['port', port], ['target port', targetPort]] as const) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`openbsd-lab: splice ${what} ${p} outside 1..65535`);
    }
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86400) throw new Error(`openbsd-lab: splice seconds ${seconds} outside 1..86400`);
    return `splice start ${port} ${token('splice target', target, ADDR)} ${targetPort} ${seconds}`;
  },
  spliceStop: () => 'splice stop',
  spliceStatus: () => 'splice',
  echo: (text: string) => {
    if (/[\r\n]/.test(text)) throw new Error('openbsd-lab: echo text contains a newline');
    return `echo ${text}`;
  },
};

export interface AgentReply {
  /** Output lines between the echoed command and the status line. */
  output: string;
  ok: boolean;
  /** The text after "error: " when !ok. */
  error: string;
}

/**
 * Splits what followed a command: the tty's echo of the command (first line),
 * the output, and the final `ok` / `error: ...` line.
 */
export function parseAgentReply(text: string, command: string): AgentReply {
  const lines = text.replace(/\r/g, '').split('\n');
  while (lines.length && lines.at(-1) === '') lines.pop();
  if (lines.length && lines.at(-1)!.trimEnd() === AGENT_PROMPT.trimEnd()) lines.pop();
  if (lines.length && lines[0]!.trim() === command.trim()) lines.shift();
  const status = lines.pop() ?? '';
  if (status === 'ok') return { output: lines.join('\n'), ok: true, error: '' };
  const m = /^error: (.*)$/.exec(status);
  if (m) return { output: lines.join('\n'), ok: false, error: m[1]! };
  throw new Error(`openbsd-lab: no ok/error line after ${JSON.stringify(command)}; got ${JSON.stringify(status)}`);
}

/** One command's exchange in a transcript: `labinit> CMD` up to the next prompt. */
export interface TranscriptExchange {
  command: string;
  reply: string;
}

/** Splits a whole agent transcript into exchanges (tests and replay). */
export function splitTranscript(text: string): TranscriptExchange[] {
  const out: TranscriptExchange[] = [];
  const parts = text.replace(/\r/g, '').split(/^labinit> /m);
  for (const part of parts.slice(1)) {
    const nl = part.indexOf('\n');
    const command = nl < 0 ? part : part.slice(0, nl);
    out.push({ command, reply: nl < 0 ? '' : part.slice(nl + 1) });
  }
  return out;
}

const NETSTAT_HEADER = /^Name\s+Ipkts\s+Ierrs\s+Idrop\s+Opkts\s+Oerrs\s+Odrop\s+Ibytes\s+Obytes\s*$/;
const NETSTAT_COLUMNS = ['ipkts', 'ierrs', 'idrop', 'opkts', 'oerrs', 'odrop', 'ibytes', 'obytes'] as const;

function keyValues(prefix: string, rest: string, into: CounterSnapshot, where: string): void {
  for (const kv of rest.trim().split(/\s+/).filter(Boolean)) {
    const m = /^([a-z0-9_]+)=(\d+)$/.exec(kv);
    if (!m) throw new Error(`openbsd-lab netstat: bad field ${JSON.stringify(kv)} in ${where}`);
    into[`${prefix}.${m[1]}`] = Number(m[2]);
  }
}

/**
 * The agent's `netstat`: per-interface counters as `if.<name>.<column>`,
 * `mbstat.<field>` (all fields), and the nonzero `ip.<field>` / `ip6.<field>`
 * statistics. Absent ip/ip6 fields are zero.
 */
export function parseNetstat(text: string): CounterSnapshot {
  const out: CounterSnapshot = {};
  const lines = text.replace(/\r/g, '').split('\n').filter((l) => l.trim() !== '');
  const header = lines.findIndex((l) => NETSTAT_HEADER.test(l));
  if (header < 0) throw new Error('openbsd-lab netstat: no "Name Ipkts ..." header');
  let i = header + 1;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^(mbstat|ip|ip6):/.test(line)) break;
    const cols = line.trim().split(/\s+/);
    if (cols.length !== 9 || !cols.slice(1).every((c) => /^\d+$/.test(c))) {
      throw new Error(`openbsd-lab netstat: bad interface line ${i + 1}: ${JSON.stringify(line)}`);
    }
    NETSTAT_COLUMNS.forEach((c, k) => (out[`if.${cols[0]}.${c}`] = Number(cols[k + 1])));
  }
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = /^(mbstat|ip|ip6):(.*)$/.exec(lines[i]!);
    if (!m) throw new Error(`openbsd-lab netstat: unexpected line ${i + 1}: ${JSON.stringify(lines[i])}`);
    seen.add(m[1]!);
    keyValues(m[1]!, m[2]!, out, `line ${i + 1}`);
  }
  for (const s of ['mbstat', 'ip', 'ip6']) if (!seen.has(s)) throw new Error(`openbsd-lab netstat: no "${s}:" line`);
  return out;
}

export interface AgentInterface {
  name: string;
  flags: number;
  flagNames: string[];
  mtu: number;
  index: number;
  linkState: number;
  lladdr?: string;
  counters: Record<string, number>;
  inet: string[];
  inet6: string[];
}

/** The agent's `ifconfig [IF]` listing. */
export function parseIfconfig(text: string): AgentInterface[] {
  const out: AgentInterface[] = [];
  let cur: AgentInterface | null = null;
  text
    .replace(/\r/g, '')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const head = /^([a-z]+[0-9]+): flags=([0-9a-f]+)<([A-Z0-9_,]*)> xflags=[0-9a-f]+ mtu (\d+) index (\d+) link_state (\d+)$/.exec(line);
      if (head) {
        cur = {
          name: head[1]!,
          flags: parseInt(head[2]!, 16),
          flagNames: head[3] ? head[3].split(',') : [],
          mtu: Number(head[4]),
          index: Number(head[5]),
          linkState: Number(head[6]),
          counters: {},
          inet: [],
          inet6: [],
        };
        out.push(cur);
        return;
      }
      const c = cur as AgentInterface | null;
      if (!c || !line.startsWith('\t')) throw new Error(`openbsd-lab ifconfig: unexpected line ${i + 1}: ${JSON.stringify(line)}`);
      const body = line.trim();
      let m: RegExpExecArray | null;
      if ((m = /^lladdr ([0-9a-f:]+)$/.exec(body))) c.lladdr = m[1]!;
      else if ((m = /^inet (\S+)$/.exec(body))) c.inet.push(m[1]!);
      else if ((m = /^inet6 (\S+)$/.exec(body))) c.inet6.push(m[1]!);
      else if (/^[io]pkts /.test(body)) {
        const words = body.split(/\s+/);
        for (let k = 0; k + 1 < words.length; k += 2) c.counters[words[k]!] = Number(words[k + 1]);
      } else throw new Error(`openbsd-lab ifconfig: unexpected line ${i + 1}: ${JSON.stringify(line)}`);
    });
  return out;
}

/** `name=value` lines of the agent's `sysctl`. */
export function parseSysctl(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.replace(/\r/g, '').split('\n')) {
    const m = /^([a-z][a-z0-9_.]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export interface AgentProfile extends KernelProfile {
  probes: number;
  pbn: number;
  seconds: number;
  hz: number;
  distinctStacks: number;
  overflow: number;
  readevt: number;
  dropevt: number;
  skiptick: number;
  recurevt: number;
}

/** The agent's `profile SECONDS [TOP]` output: a totals line, then `@[ addr... ]: count` blocks. */
export function parseProfile(text: string): AgentProfile {
  const t = text.replace(/\r/g, '');
  const probes = /^dt: (\d+) probes, profile:hz is pbn (-?\d+)$/m.exec(t);
  const rate = /^profiling (\d+) seconds at (\d+) Hz$/m.exec(t);
  const totals = /^events (\d+) stacks (\d+) overflow (\d+) readevt (\d+) dropevt (\d+) skiptick (\d+) recurevt (\d+)$/m.exec(t);
  if (!probes || !rate || !totals) throw new Error('openbsd-lab profile: missing the "dt:", "profiling" or "events" line');
  const stacks: KernelProfile['stacks'] = [];
  const block = /^@\[\n((?:[ \t]+0x[0-9a-f]+\n)*)\]: (\d+)$/gm;
  for (const m of t.matchAll(block)) {
    const frames = m[1]!
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    stacks.push({ frames, count: Number(m[2]) });
  }
  const n = (s: string | undefined) => Number(s);
  return {
    total: n(totals[1]),
    stacks,
    probes: n(probes[1]),
    pbn: n(probes[2]),
    seconds: n(rate[1]),
    hz: n(rate[2]),
    distinctStacks: n(totals[2]),
    overflow: n(totals[3]),
    readevt: n(totals[4]),
    dropevt: n(totals[5]),
    skiptick: n(totals[6]),
    recurevt: n(totals[7]),
  };
}

export interface NmSymbol {
  addr: bigint;
  name: string;
}

/** `llvm-nm -n` output: text symbols (t/T/w/W) sorted by address. */
export function parseNm(text: string): NmSymbol[] {
  const out: NmSymbol[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{8,16}) ([tTwW]) (\S+)$/.exec(line.trim());
    if (m) out.push({ addr: BigInt(`0x${m[1]}`), name: m[3]! });
  }
  out.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  return out;
}

/** Maps a raw `0x...` frame to `func+0xoff` through the sorted symbol list; unknown addresses stay raw. */
export function symbolizeFrame(frame: string, syms: NmSymbol[]): string {
  if (!/^0x[0-9a-f]+$/i.test(frame) || syms.length === 0) return frame;
  const addr = BigInt(frame);
  let lo = 0;
  let hi = syms.length - 1;
  if (addr < syms[0]!.addr) return frame;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (syms[mid]!.addr <= addr) lo = mid;
    else hi = mid - 1;
  }
  const s = syms[lo]!;
  const off = addr - s.addr;
  return off === 0n ? s.name : `${s.name}+0x${off.toString(16)}`;
}

export function symbolizeProfile<P extends KernelProfile>(profile: P, syms: NmSymbol[]): P {
  return { ...profile, stacks: profile.stacks.map((s) => ({ ...s, frames: s.frames.map((f) => symbolizeFrame(f, syms)) })) };
}

const SPLICE_COUNTERS: Record<string, keyof SpliceRelayStats> = {
  accepted: 'accepted',
  connected: 'connected',
  connect_failed: 'connectFailed',
  splice_failed: 'spliceFailed',
  bytes: 'bytes',
};

/** `splice stop` / `splice`: "splice NAME VALUE" lines (splice.c print_stats); other lines are ignored. */
export function parseSpliceStats(text: string): SpliceRelayStats & { state?: string } {
  const out: SpliceRelayStats & { state?: string } = {};
  for (const line of text.split('\n')) {
    const m = /^splice (\w+) (\S+)$/.exec(line.trim());
    if (!m) continue;
    const [, name, value] = m as unknown as [string, string, string];
    if (name === 'state') out.state = value;
    else if (name === 'last_error') out.lastError = value;
    else if (SPLICE_COUNTERS[name] && /^\d+$/.test(value)) (out as Record<string, number>)[SPLICE_COUNTERS[name]] = Number(value);
  }
  return out;
}
