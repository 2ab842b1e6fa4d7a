/**
 * Load generators run a workload between guests and turn the tool's output into
 * measurements. They are guest-neutral: they ask the guest's shell to run commands
 * that the generator renders for that guest kind.
 */
import type { GuestShell } from '../guest/adapter.ts';
import type { PlannedLoad, PlannedVm } from '../playbook/plan-types.ts';

export interface Measurement {
  /** e.g. "tcp4.throughput", "frag6.loss" */
  name: string;
  value: number;
  /** e.g. "bit/s", "%", "packets", "ms" */
  unit: string;
  /** Which direction / stream / vm it came from. */
  labels?: Record<string, string>;
}

export interface LoadEndpoint {
  vm: PlannedVm;
  shell: GuestShell;
  /** The address on the path between the two ends for this load's family. */
  address?: string;
}

export interface LoadContext {
  load: PlannedLoad;
  from: LoadEndpoint;
  to?: LoadEndpoint;
  /**
   * The phase runs "via" a socket-splicing relay: the client connects to this
   * address (the relay VM) instead of to.address; the server still runs on `to`.
   */
  relay?: { vm: string; address: string };
  /** Writes raw tool output next to the run (e.g. iperf3 JSON) for the report. */
  saveArtifact(name: string, content: string): Promise<void>;
  signal: AbortSignal;
}

export interface LoadGenerator {
  readonly name: string;
  /** Guest kinds whose shells this generator knows how to drive. */
  readonly guests: PlannedVm['guest'][];
  /** Guest kinds that can run the server side on `to`; absent when `to` only lends its address (ping). */
  readonly serverGuests?: PlannedVm['guest'][];
  run(ctx: LoadContext): Promise<Measurement[]>;
  /** TCP generators whose client makes plain connections to one server port can run through a relay ("via"). */
  serverPort?(load: PlannedLoad): number;
}
