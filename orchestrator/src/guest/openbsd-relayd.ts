/**
 * Socket splicing on the DUT. OpenBSD's base has no stand-alone splice tool; relayd(8)
 * is the base daemon whose plain TCP relays move data with SO_SPLICE (see sosplice(9)).
 * This renders a one-relay relayd.conf(5) ("relay NAME { listen on ADDR port P;
 * forward to ADDR port P }", the shape of the relayd.conf(5) EXAMPLES ssh forward)
 * and the commands that check and run it in the foreground.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface SpliceRelay {
  name: string;
  listen: { address: string; port: number };
  forward: { address: string; port: number };
}

export const RELAYD_CONF_PATH = '/etc/relayd.obsdlab.conf';

function checkEnd(what: string, e: { address: string; port: number }): void {
  if (!isIPv4(e.address) && !isIPv6(e.address)) throw new Error(`splice relay: ${what} address ${JSON.stringify(e.address)} is not an IP address`);
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) throw new Error(`splice relay: ${what} port ${e.port} out of range`);
}

export function renderRelaydConf(r: SpliceRelay): string {
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
