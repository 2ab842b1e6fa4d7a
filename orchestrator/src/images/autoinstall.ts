/**
 * The unattended install's inputs, rendered purely: the autoinstall(8) response file
 * (install.conf) and the files the install.site step writes into the new system.
 */
import { createHash } from 'node:crypto';

export interface InstallAnswers {
  hostname: string;
  /** One line of an OpenSSH public key; installed for root (autoinstall(8) "Public ssh key for root account"). */
  rootSshKey: string;
  /** Root disk as the installer names it (sd0 on virtio-scsi, wd0 on IDE). */
  rootDisk: string;
  /** Where the sets come from: the install CD (installNN.iso), the install image's disk, or an HTTP server. */
  sets: { kind: 'cd0' } | { kind: 'disk' } | { kind: 'http'; server: string; directory: string };
  /** autoinstall answer for "Set name(s)", e.g. "-game* -x*". */
  setSelection: string;
  /** The management NIC, configured with DHCP (QEMU user networking answers). */
  managementIf: string;
  timezone: string;
  /** Answer yes to "Directory does not contain SHA256.sig. Continue without verification" (sets from an unsigned local directory). */
  allowUnverifiedSets: boolean;
}

export const DEFAULT_ANSWERS: Omit<InstallAnswers, 'hostname' | 'rootSshKey'> = {
  rootDisk: 'sd0',
  sets: { kind: 'cd0' },
  setSelection: '-game* -x*',
  managementIf: 'vio0',
  timezone: 'UTC',
  // The installer's own sets carry no SHA256.sig (see the 7.9 transcript); the whole
  // install media was verified with signify before it was booted.
  allowUnverifiedSets: true,
};

function checkLine(name: string, value: string): void {
  if (/[\r\n]/.test(value) || value.trim() === '') throw new Error(`autoinstall: ${name} must be one non-empty line`);
}

/**
 * install.conf lines "question = answer" (autoinstall(8): question is an installer
 * question without the question mark, or a non-ambiguous part of it).
 * Root's password is 13 '*'s: password logins disabled, SSH keys only (autoinstall(8)).
 */
export function renderResponseFile(a: InstallAnswers): string {
  checkLine('hostname', a.hostname);
  checkLine('rootSshKey', a.rootSshKey);
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(a.hostname)) throw new Error(`autoinstall: hostname ${JSON.stringify(a.hostname)} is not a valid host name`);
  if (!/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$/.test(a.rootSshKey)) {
    throw new Error('autoinstall: rootSshKey is not an OpenSSH public key line');
  }
  // Question texts as the 7.9 installer prints them (a real console transcript is in
  // test/fixtures/openbsd-tools/installer-7.9-amd64-qemu.txt); keys are the shortest
  // non-ambiguous part, which is what autoinstall(8) matches.
  const lines: [string, string][] = [
    ['System hostname', a.hostname],
    ['Network interface to configure', a.managementIf],
    [`IPv4 address for ${a.managementIf}`, 'autoconf'],
    [`IPv6 address for ${a.managementIf}`, 'none'],
    ['Network interface to configure', 'done'],
    ['Password for root account', '*************'],
    ['Public ssh key for root account', a.rootSshKey],
    ['Start sshd(8) by default', 'yes'],
    ['Do you expect to run the X Window System', 'no'],
    ['Change the default console to com0', 'yes'],
    ['Which speed should com0 use', '115200'],
    ['Setup a user', 'no'],
    ['Allow root ssh login', 'prohibit-password'],
    ['What timezone are you in', a.timezone],
    ['Which disk is the root disk', a.rootDisk],
    ['Encrypt the root disk', 'no'],
    ['Use (W)hole disk', 'whole'],
    ['Use (A)uto layout, (E)dit auto layout, or create (C)ustom layout', 'a'],
  ];
  if (a.sets.kind === 'http') {
    lines.push(['Location of sets', 'http'], ['HTTP proxy URL', 'none'], ['HTTP Server', a.sets.server], ['Server directory', a.sets.directory]);
  } else {
    lines.push(['Location of sets', a.sets.kind]);
  }
  lines.push(['Set name(s)', a.setSelection], ['Set name(s)', 'done']);
  if (a.allowUnverifiedSets) lines.push(['Directory does not contain SHA256.sig. Continue without verification', 'yes']);
  lines.push(['Location of sets', 'done']);
  return lines.map(([q, v]) => `${q} = ${v}`).join('\n') + '\n';
}

export interface SiteOptions {
  /** kern.pool_debug=1, kern.splassert=3, kern.witness.watch=3 */
  debugSysctls: boolean;
  rootSshKey: string;
}

export interface SiteFile {
  path: string;
  content: string;
  mode: number;
}

/** /etc/boot.conf per boot.conf(5): serial console on com0 at 115200. */
export function renderBootConf(extra: string[] = []): string {
  return ['stty com0 115200', 'set tty com0', ...extra].join('\n') + '\n';
}

/** /etc/sysctl.conf per sysctl.conf(5): one name=value per line. */
export function renderSysctlConf(debug: boolean): string {
  const lines = ['ddb.console=1', 'ddb.max_line=0', 'ddb.max_width=0', 'kern.allowdt=1'];
  if (debug) lines.push('kern.pool_debug=1', 'kern.splassert=3', 'kern.witness.watch=3');
  return lines.join('\n') + '\n';
}

/**
 * Files written into the installed system. Kernel relinking at boot (KARL): /etc/rc
 * runs `/usr/libexec/reorder_kernel &` unconditionally near its end, and no rc.conf(8)
 * variable turns it off (library_aslr only covers libraries), so install.site comments
 * that line out. A relink only rewrites /bsd, never /bsd.test, but it costs minutes
 * of CPU on every boot under TCG and disturbs measurements.
 */
export function renderSiteFiles(o: SiteOptions): SiteFile[] {
  checkLine('rootSshKey', o.rootSshKey);
  return [
    { path: 'etc/boot.conf', content: renderBootConf(), mode: 0o644 },
    { path: 'etc/sysctl.conf', content: renderSysctlConf(o.debugSysctls), mode: 0o644 },
    { path: 'root/.ssh/authorized_keys', content: `${o.rootSshKey}\n`, mode: 0o600 },
    {
      path: 'install.site',
      mode: 0o755,
      content: [
        '#!/bin/sh',
        '# obsdlab: run by the installer in the new system (install.site(5))',
        'set -e',
        'chmod 700 /root/.ssh',
        'rcctl enable sshd',
        "sed -i 's|^/usr/libexec/reorder_kernel &|#&|' /etc/rc",
        '',
      ].join('\n'),
    },
  ];
}

/** Cache key of a base image: what went into it. */
export function baseImageKey(p: { release: string; arch: string; setSelection: string; responseFile: string; siteFiles: SiteFile[] }): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([p.release, p.arch, p.setSelection, p.responseFile, p.siteFiles]));
  return h.digest('hex').slice(0, 16);
}
