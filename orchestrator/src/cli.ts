/** The obsdlab command line: each subcommand lives in commands/<name>.ts. */
import { Command } from 'commander';
import { register as schema } from './commands/schema.ts';
import { register as validate } from './commands/validate.ts';
import { register as plan } from './commands/plan.ts';
import { register as run } from './commands/run.ts';
import { register as report } from './commands/report.ts';
import { register as triage } from './commands/triage.ts';
import { register as build } from './commands/build.ts';
import { register as patch } from './commands/patch.ts';
import { register as cache } from './commands/cache.ts';
import { register as bisect } from './commands/bisect.ts';
import { register as media } from './commands/media.ts';
import { register as image } from './commands/image.ts';
import { register as imageTestguest } from './commands/image-testguest.ts';

const program = new Command();
program
  .name('obsdlab')
  .description('Test OpenBSD kernels in QEMU: build per diff, boot, load, capture ddb panics, triage, A/B, bisect.')
  .showHelpAfterError();

for (const register of [schema, validate, plan, run, report, triage, build, patch, cache, bisect, media, image, imageTestguest]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`obsdlab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = process.exitCode || 1;
}
