/**
 * The splice relay of installed OpenBSD guests. Base has no stand-alone splice
 * tool; relayd(8) is the base daemon whose plain TCP relays move data with
 * SO_SPLICE (relayd.conf(5): "splice" is on by default). This renders a
 * one-relay relayd.conf(5) ("relay NAME { listen on ADDR port P; forward to ADDR
 * port P }", the shape of the relayd.conf(5) EXAMPLES ssh forward), checks it
 * with -n, and runs relayd in the foreground under timeout(1) (base since 7.0)
 * so it ends on its own.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { GuestCommandError, type GuestShell, type SpliceRelay, type SpliceRelaySpec } from './adapter.ts';
import { shQuote, writeFileCommand } from './openbsd-render.ts';

export interface RelaydRelay {
  name: string;
  listen: { address: string; port: number };
  forward: { address: string; port: number };
}

export const RELAYD_CONF_PATH = '/etc/relayd.obsdlab.conf';

function checkEnd(what: string, e: { address: string; port: number }): void {
  if (!isIPv4(e.address) && !isIPv6(e.address)) throw new Error(`splice relay: ${what} address ${JSON.stringify(e.address)} is not an IP address`);
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) throw new Error(`splice relay: ${what} port ${e.port} out of range`);
}

export function renderRelaydConf(r: RelaydRelay): string {
  if (!/^[a-z][a-z0-9_]*$/.test(r.name)) throw new Error(`splice relay: name ${JSON.stringify(r.name)} must be lower-case letters, digits, "_"`);
  checkEnd('listen', r.listen);
  checkEnd('forward', r.forward);
  return [
    `relay ${r.name} {`,
    `\tlisten on ${r.listen.address} port ${r.listen.port}`,
    `\tforward to ${r.forward.address} port ${r.forward.port}`,
    '}',
    '',
  ].join('\n');
}

/** relayd(8): -n checks the configuration only; -d stays in the foreground (stopped by the BackgroundCommand). */
export function relaydCommands(path = RELAYD_CONF_PATH): { check: string; run: string } {
  return { check: `relayd -n -f ${path}`, run: `relayd -d -f ${path}` };
}

/** Writes, checks and starts the relay; relayd keeps no counters we read, so stop() returns none. */
export async function startRelaydRelay(shell: GuestShell, spec: SpliceRelaySpec, timeoutMs: number): Promise<SpliceRelay> {
  const conf = renderRelaydConf({ name: 'obsdlab_splice', listen: { address: spec.listenAddress, port: spec.listenPort }, forward: spec.target });
  const cmds = relaydCommands();
  for (const command of [writeFileCommand(RELAYD_CONF_PATH, conf), cmds.check]) {
    const r = await shell.exec(command, timeoutMs);
    if (r.exitCode !== 0) throw new GuestCommandError(r);
  }
  const relayd = await shell.start(`timeout ${Math.max(1, Math.ceil(spec.seconds))} ${cmds.run}`);
  return {
    stop: async () => {
      await relayd.stop();
      await shell.exec(`rm -f ${shQuote(RELAYD_CONF_PATH)}`, timeoutMs);
      return {};
    },
  };
}
