/** Problems found in a playbook, each with its position in the YAML file. */

export type PathSegment = string | number;
export type JsonPath = readonly PathSegment[];

/** A problem before it has a position: where in the document, and what. */
export interface PathProblem {
  path: JsonPath;
  message: string;
  /** Point at the key rather than its value (unknown keys, duplicate names). */
  atKey?: boolean;
}

export interface Problem {
  file: string;
  line: number;
  column: number;
  /** Rendered path, e.g. vms.dut.nics[1].addrs[0]; "" for the document itself. */
  path: string;
  message: string;
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** vms.dut.nics[1].addrs[0]; keys that are not identifiers are quoted: sysctls["net.inet.ip.forwarding"]. */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Thrown when a playbook cannot be used; carries every problem found, in file order. */
export class PlaybookError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PlaybookError';
  }
}
