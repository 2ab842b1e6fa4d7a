/**
 * Finds the first compiler/linker errors in a kernel build log and names the
 * patch that touched the failing file. Pure.
 */

export interface CompileError {
  /** Tree-relative file, when the error names one inside the tree. */
  file?: string;
  line?: number;
  message: string;
  /** The log lines that make up this error (message plus the compiler's context). */
  excerpt: string[];
}

const CC_ERROR = /^(.+?):(\d+):(?:\d+:)? (?:fatal )?error: (.*)$/;
const LD_ERROR = /^(?:ld(?:\.lld)?(?:-\d+)?|lld): error: (.*)$/;
// ">>> referenced by uipc_mbuf.c:2 (/abs/tree/kern/uipc_mbuf.c:2)" or ">>> referenced by uipc_mbuf.o:(m_free)"
const LD_REF = /^>>> (?:referenced by|defined at) (\S+?)(?::\d+)?(?: \((\S+?)(?::\d+)?\))?$/;

function treeRelative(path: string, treeDir: string): string | undefined {
  const prefix = treeDir.endsWith('/') ? treeDir : `${treeDir}/`;
  if (path.startsWith(prefix)) return path.slice(prefix.length);
  // the generated Makefile refers to sources through $S (absolute) but some
  // tools print paths relative to the compile directory
  const m = /^(?:\.\.\/)+(.*)$/.exec(path);
  return m ? m[1] : undefined;
}

export function findCompileErrors(log: string, treeDir: string, max = 5): CompileError[] {
  const lines = log.split('\n');
  const out: CompileError[] = [];
  for (let i = 0; i < lines.length && out.length < max; i++) {
    const l = lines[i]!;
    let m = CC_ERROR.exec(l);
    if (m && !l.startsWith('*** ')) {
      const excerpt = [l];
      for (let j = i + 1; j < lines.length && excerpt.length < 6; j++) {
        const n = lines[j]!;
        const continues = /^\s/.test(n) || /^\S+:\d+:\d+: note:/.test(n);
        if (!continues) break;
        excerpt.push(n);
      }
      const e: CompileError = { message: m[3]!, excerpt, line: Number(m[2]) };
      const rel = treeRelative(m[1]!, treeDir);
      if (rel) e.file = rel;
      out.push(e);
      continue;
    }
    m = LD_ERROR.exec(l);
    if (m) {
      const excerpt = [l];
      let file: string | undefined;
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith('>>>') && excerpt.length < 6; j++) {
        excerpt.push(lines[j]!);
        const r = LD_REF.exec(lines[j]!.trim());
        const ref = r?.[2] ?? r?.[1];
        if (!file && ref) file = treeRelative(ref, treeDir) ?? ref;
      }
      const e: CompileError = { message: m[1]!, excerpt };
      if (file) e.file = file;
      out.push(e);
    }
  }
  return out;
}

/** Which patch (last in apply order) touched each file. */
export function patchTouching(file: string, patches: { patch: string; touched: string[] }[]): string | undefined {
  let found: string | undefined;
  for (const p of patches) {
    if (p.touched.some((t) => t === file || file.endsWith(`/${t}`))) found = p.patch;
  }
  return found;
}

/**
 * bmake's own failure line when no compiler error was recognised,
 * e.g. "*** Error code 1" with the target.
 */
export function lastMakeFailure(log: string): string | undefined {
  const lines = log.trimEnd().split('\n');
  const idx = lines.findIndex((l) => /\*\*\* Error code|\*\*\* Failed target|Stop\.$|don't know how to make/.test(l));
  if (idx < 0) return lines.slice(-5).join('\n') || undefined;
  return lines.slice(Math.max(0, idx - 5), idx + 3).join('\n');
}
