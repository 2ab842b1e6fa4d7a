/** The obsdlab command line: each subcommand lives in commands/<name>.ts. */
import { Command } from 'commander';
import { register as schema } from './commands/schema.ts';
import { register as validate } from './commands/validate.ts';
import { register as plan } from './commands/plan.ts';
import { register as run } from './commands/run.ts';
import { register as imageTestguest } from './commands/image-testguest.ts';
import { register as bisect } from './commands/bisect.ts';

const program = new Command();
program
  .name('obsdlab')
  .description('Test OpenBSD kernels in QEMU: build per diff, boot, load, capture ddb panics, triage, A/B, bisect.')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

for (const register of [schema, validate, plan, run, imageTestguest, bisect]) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`obsdlab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = process.exitCode || 1;
}
