import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { register } from '../../src/commands/image-testguest.ts';

test('`image testguest` (alias build-testguest) is registered under an existing or new `image` command', () => {
  const program = new Command();
  register(program);
  const image = program.commands.find((c) => c.name() === 'image');
  const sub = image?.commands.find((c) => c.name() === 'testguest');
  assert.ok(sub);
  assert.deepEqual(sub.aliases(), ['build-testguest']);
  assert.deepEqual(sub.options.map((o) => o.long), ['--out', '--quiet']);

  const shared = new Command();
  shared.command('image').command('base');
  register(shared);
  assert.equal(shared.commands.filter((c) => c.name() === 'image').length, 1);
  assert.deepEqual(shared.commands[0]!.commands.map((c) => c.name()), ['base', 'testguest']);
});
