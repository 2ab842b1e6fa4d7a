/** Console logs as files: the corpus mail excerpts start with `# source:` / `# date:` lines. */

/** Removes the leading `# source:` / `# date:` header lines; report offsets then refer to the rest. */
export function stripCorpusHeader(text: string): string {
  let pos = 0;
  while (/^# (?:source|date):/.test(text.slice(pos, pos + 10))) {
    const nl = text.indexOf('\n', pos);
    if (nl === -1) return '';
    pos = nl + 1;
  }
  return text.slice(pos);
}
