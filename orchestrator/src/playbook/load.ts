/**
 * Reading a playbook: YAML with positions, schema, semantic rules and the input
 * files it names. Every problem is collected and reported as file:line:column.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { expandPlaybook } from './expand.ts';
import { playbookPath } from './kernels.ts';
import type { Plan } from './plan-types.ts';
import { formatPath, PlaybookError, type JsonPath, type PathProblem, type Problem } from './problems.ts';
import { schemaProblems } from './schema-check.ts';
import type { Playbook } from './schema.ts';
import { semanticProblems, type SemanticOptions } from './semantic.ts';

export interface LoadOptions {
  /** Known load generators; phases naming others are problems. */
  generators?: readonly string[];
  /** Generators that can run through a splice relay ("via"). */
  relayableGenerators?: readonly string[];
  /** Guest kinds of each generator's client and server. */
  generatorGuests?: SemanticOptions['generatorGuests'];
  /** Check that input files (patches, fix-ups, config files, rules files, source trees) exist. Default true. */
  checkFiles?: boolean;
}

export interface LoadedPlaybook {
  /** Absolute path of the playbook. */
  file: string;
  /** The validated playbook; pf.rulesFile contents are inlined as pf.rules. */
  playbook: Playbook;
}

type Located = { node?: Node; key?: Node };

function locate(doc: Document, path: JsonPath): Located {
  let node: unknown = doc.contents;
  let found: Located = node ? { node: node as Node } : {};
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return found;
      node = pair.value;
      found = { key: pair.key as Node, ...(pair.value ? { node: pair.value as Node } : {}) };
      if (!pair.value) return found;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!item) return found;
      node = item;
      found = { node: item as Node };
    } else {
      return found;
    }
  }
  return found;
}

class ProblemSink {
  readonly problems: Problem[] = [];
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly doc: Document,
  ) {}

  at(offset: number, path: string, message: string): void {
    const { line, col } = this.lines.linePos(offset);
    this.problems.push({ file: this.file, line, column: col, path, message });
  }

  add(p: PathProblem): void {
    const { node, key } = locate(this.doc, p.path);
    const target = p.atKey && key ? key : (node ?? key);
    const offset = target?.range?.[0] ?? 0;
    this.at(offset, formatPath(p.path), p.message);
  }

  sorted(): Problem[] {
    return [...this.problems].sort((a, b) => a.line - b.line || a.column - b.column);
  }
}

interface FileRef {
  path: JsonPath;
  value: string;
  kind: 'file' | 'directory' | 'any';
}

function inputFiles(pb: Playbook): FileRef[] {
  const refs: FileRef[] = [];
  for (const [name, k] of Object.entries(pb.kernels)) {
    k.patches?.forEach((p, i) => refs.push({ path: ['kernels', name, 'patches', i], value: p, kind: 'file' }));
    k.fixups?.forEach((f, i) => refs.push({ path: ['kernels', name, 'fixups', i], value: f, kind: 'directory' }));
    if (k.config?.includes('/')) refs.push({ path: ['kernels', name, 'config'], value: k.config, kind: 'file' });
    if (k.source && 'tree' in k.source) refs.push({ path: ['kernels', name, 'source', 'tree'], value: k.source.tree, kind: 'directory' });
    if (k.source && 'git' in k.source && !/:/.test(k.source.git)) {
      refs.push({ path: ['kernels', name, 'source', 'git'], value: k.source.git, kind: 'any' });
    }
  }
  return refs;
}

function checkFile(dir: string, ref: FileRef): string | undefined {
  const abs = playbookPath(dir, ref.value);
  if (!existsSync(abs)) return `${ref.kind === 'directory' ? 'directory' : 'file'} not found: ${abs}`;
  const isDir = statSync(abs).isDirectory();
  if (ref.kind === 'file' && isDir) return `is a directory, not a file: ${abs}`;
  if (ref.kind === 'directory' && !isDir) return `is a file, not a directory: ${abs}`;
  return undefined;
}

/** Replaces pf.rulesFile by the file's text (as pf.rules), everywhere a VM is written. */
function inlineRulesFiles(pb: Playbook, dir: string, readFiles: boolean, out: PathProblem[]): void {
  const vmSets: [JsonPath, Record<string, { pf?: { rules?: string; rulesFile?: string } }>][] = [[['vms'], pb.vms]];
  for (const [name, v] of Object.entries(pb.variants ?? {})) if (v.vms) vmSets.push([['variants', name, 'vms'], v.vms]);
  for (const [base, vms] of vmSets) {
    for (const [vm, def] of Object.entries(vms)) {
      const pf = def.pf;
      if (pf?.rulesFile === undefined) continue;
      const at = [...base, vm, 'pf', 'rulesFile'];
      if (pf.rules !== undefined) {
        out.push({ path: at, message: 'give either "rules" or "rulesFile", not both' });
        continue;
      }
      const abs = playbookPath(dir, pf.rulesFile);
      if (!readFiles) {
        pf.rules = `# rules from ${abs}\n`;
      } else if (!existsSync(abs) || statSync(abs).isDirectory()) {
        out.push({ path: at, message: `file not found: ${abs}` });
        continue;
      } else {
        pf.rules = readFileSync(abs, 'utf8');
      }
      delete pf.rulesFile;
    }
  }
}

/**
 * Validates playbook text. `file` names it in problems and anchors relative paths.
 * Throws PlaybookError with every problem found.
 */
export function parsePlaybook(text: string, file: string, opts: LoadOptions = {}): LoadedPlaybook {
  const abs = resolve(file);
  const dir = dirname(abs);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const sink = new ProblemSink(file, lineCounter, doc);
  if (doc.errors.length > 0) {
    for (const e of doc.errors) sink.at(e.pos[0], '', `YAML: ${e.message}`);
    throw new PlaybookError(sink.sorted());
  }
  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (data === null || data === undefined) {
    sink.at(0, '', 'empty playbook: expected a mapping with name, kernels and vms');
    throw new PlaybookError(sink.sorted());
  }
  const structural = schemaProblems(data);
  const pb = data as Playbook;
  const problems: PathProblem[] = [...structural];
  const checkFiles = opts.checkFiles ?? true;
  let deeper: PathProblem[] = [];
  try {
    if (checkFiles) {
      for (const ref of inputFiles(pb)) {
        const message = checkFile(dir, ref);
        if (message) deeper.push({ path: ref.path, message });
      }
    }
    inlineRulesFiles(pb, dir, checkFiles, deeper);
    deeper.push(
      ...semanticProblems(pb, {
        dir,
        ...(opts.generators ? { generators: opts.generators } : {}),
        ...(opts.relayableGenerators ? { relayableGenerators: opts.relayableGenerators } : {}),
        ...(opts.generatorGuests ? { generatorGuests: opts.generatorGuests } : {}),
      }),
    );
  } catch (err) {
    // Semantic checks assume the schema's shapes; on a malformed document they may
    // trip over a value the schema problems already name. Those come first.
    if (structural.length === 0) throw err;
    deeper = [];
  }
  // Where the structure is wrong, a semantic remark about the same place is noise.
  const overlaps = (a: JsonPath, b: JsonPath): boolean => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (String(a[i]) !== String(b[i])) return false;
    return true;
  };
  problems.push(...deeper.filter((d) => !structural.some((s) => overlaps(s.path, d.path))));
  if (problems.length > 0) {
    problems.forEach((p) => sink.add(p));
    throw new PlaybookError(sink.sorted());
  }
  return { file: abs, playbook: pb };
}

/** Reads and validates a playbook file. */
export function loadPlaybook(file: string, opts: LoadOptions = {}): LoadedPlaybook {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new PlaybookError([{ file, line: 1, column: 1, path: '', message: `cannot read playbook: ${reason}` }]);
  }
  return parsePlaybook(text, file, opts);
}

/** loadPlaybook + expandPlaybook. */
export function planFromFile(file: string, opts: LoadOptions = {}): Plan {
  const loaded = loadPlaybook(file, opts);
  return expandPlaybook(loaded.playbook, loaded.file);
}
