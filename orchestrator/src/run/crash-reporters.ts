/** Crash reporters per guest OS: console text → crashes with title and signature. */
import { triageConsole } from '../triage/triage.ts';
import { parseLinuxConsole } from '../triage/linux.ts';
import { symbolizeReport } from '../triage/symbolize.ts';
import type { CrashReporter } from './deps.ts';

export const linuxCrashReporter: CrashReporter = {
  async parse(text) {
    return parseLinuxConsole(text).map((c) => ({ kind: c.kind, title: c.title, signature: c.signature, message: c.message, report: c }));
  },
};

export const openbsdCrashReporter: CrashReporter = {
  async parse(text, opts) {
    const out = [];
    for (const t of triageConsole(text)) {
      const symbols = opts.debugKernel ? await symbolizeReport(t.report, opts.debugKernel) : undefined;
      out.push({
        kind: t.report.kind,
        title: t.title,
        signature: t.signature,
        message: t.report.message,
        report: { ...t.report, altTitles: t.altTitles, ...(symbols ? { symbols } : {}) },
      });
    }
    return out;
  },
};
