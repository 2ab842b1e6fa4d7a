/** Load generators by playbook name. */
import { btraceGenerator } from './btrace-generator.ts';
import { iperf3Generator } from './iperf3.ts';
import { pingGenerator } from './ping.ts';
import { tcpbenchGenerator } from './tcpbench.ts';
import { udpbenchGenerator } from './udpbench.ts';
import type { GeneratorGuests } from '../playbook/semantic.ts';
import type { LoadGenerator } from './types.ts';

const GENERATORS: LoadGenerator[] = [btraceGenerator, iperf3Generator, pingGenerator, tcpbenchGenerator, udpbenchGenerator];

/** Run by the executor itself through the guest adapter (btrace / dt(4) kernel profile), not by a shell. */
export const PROFILE_GENERATOR = 'profile';

export function generatorNames(): string[] {
  return GENERATORS.map((g) => g.name);
}

/** Every name a playbook's load phase may use. */
export function playbookGeneratorNames(): string[] {
  return [...generatorNames(), PROFILE_GENERATOR];
}

/** Generators a load phase may run through a splice relay ("via"). */
export function relayableGeneratorNames(): string[] {
  return GENERATORS.filter((g) => g.serverPort).map((g) => g.name);
}

/** What the playbook checks need to know of the registry. */
export function playbookLoadOptions(): { generators: string[]; relayableGenerators: string[]; generatorGuests: Record<string, GeneratorGuests> } {
  const generatorGuests = Object.fromEntries(GENERATORS.map((g) => [g.name, { client: g.guests, ...(g.serverGuests ? { server: g.serverGuests } : {}) }]));
  return { generators: playbookGeneratorNames(), relayableGenerators: relayableGeneratorNames(), generatorGuests };
}

export function getGenerator(name: string): LoadGenerator {
  const g = GENERATORS.find((x) => x.name === name);
  if (!g) throw new Error(`unknown load generator "${name}" (known: ${generatorNames().join(', ')})`);
  return g;
}
