import { Command } from 'commander';
import * as s from '/work/main/orchestrator/src/commands/schema.ts';
import * as v from '/work/main/orchestrator/src/commands/validate.ts';
import * as p from '/work/main/orchestrator/src/commands/plan.ts';
const program = new Command('obsdlab');
s.register(program); v.register(program); p.register(program);
await program.parseAsync(process.argv);
