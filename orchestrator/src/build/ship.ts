/**
 * Incremental shipping of a git tree to a remote builder: what to send and what
 * to delete between the commit the builder has and the one wanted. Pure.
 */

export interface TreeChange {
  status: 'A' | 'M' | 'D' | 'R' | 'C' | 'T';
  path: string;
  /** Rename/copy source. */
  from?: string;
}

/** Parses `git diff --name-status -M -z` output (NUL-separated). */
export function parseNameStatusZ(out: string): TreeChange[] {
  const f = out.split('\0');
  if (f.length && f[f.length - 1] === '') f.pop();
  const changes: TreeChange[] = [];
  for (let i = 0; i < f.length; ) {
    const code = f[i++]!;
    const s = code[0] as TreeChange['status'];
    if (s === 'R' || s === 'C') {
      const from = f[i++]!;
      const to = f[i++]!;
      changes.push({ status: s, path: to, from });
    } else if ('AMDT'.includes(s)) {
      changes.push({ status: s, path: f[i++]! });
    } else {
      throw new Error(`git diff --name-status: unexpected status "${code}"`);
    }
  }
  return changes;
}

export interface Shipment {
  /** Files to send from the new commit (tree-relative). */
  upload: string[];
  /** Files to delete on the builder. */
  remove: string[];
}

/**
 * Files the new commit changes, plus files the last build modified on the
 * builder (patches, overlays) which must be reset to the new commit's content
 * or removed when the commit lacks them.
 */
export function planShipment(changes: TreeChange[], dirtyOnBuilder: string[], existsInNew: (path: string) => boolean): Shipment {
  const upload = new Set<string>();
  const remove = new Set<string>();
  for (const c of changes) {
    if (c.status === 'D') remove.add(c.path);
    else {
      upload.add(c.path);
      if (c.status === 'R' && c.from) remove.add(c.from);
    }
  }
  for (const d of dirtyOnBuilder) {
    if (upload.has(d) || remove.has(d)) continue;
    if (existsInNew(d)) upload.add(d);
    else remove.add(d);
  }
  for (const u of upload) remove.delete(u);
  return { upload: [...upload].sort(), remove: [...remove].sort() };
}
