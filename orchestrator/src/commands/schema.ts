/** `obsdlab schema`: prints the playbook JSON Schema (for editors and YAML language servers). */
import type { Command } from 'commander';
import { playbookJsonSchema } from '../playbook/schema.ts';

export function schemaText(): string {
  return `${JSON.stringify(playbookJsonSchema(), null, 2)}\n`;
}

export function register(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of playbooks (draft-07)')
    .action(() => {
      process.stdout.write(schemaText());
    });
}
