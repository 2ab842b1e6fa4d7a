/** Writes a session's report files: summary.txt, summary.json, junit.xml, index.html. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionReport } from './model.ts';
import { renderText } from './text.ts';
import { renderJunit } from './junit.ts';
import { renderHtml } from './html.ts';

export const REPORTERS = ['text', 'json', 'junit', 'html'] as const;
export type Reporter = (typeof REPORTERS)[number];

export function writeReports(report: SessionReport, dir: string, reporters: readonly Reporter[] = REPORTERS): string[] {
  const written: string[] = [];
  const put = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    written.push(path);
  };
  for (const r of reporters) {
    if (r === 'text') put('summary.txt', renderText(report));
    if (r === 'json') put('summary.json', JSON.stringify(report, null, 2) + '\n');
    if (r === 'junit') put('junit.xml', renderJunit(report));
    if (r === 'html') put('index.html', renderHtml(report, dir));
  }
  return written;
}
