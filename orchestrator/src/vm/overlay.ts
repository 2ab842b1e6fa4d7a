/**
 * Copy-on-write overlays: every run writes to its own qcow2 whose backing file is
 * the base image, so a base image is never written.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { execa } from 'execa';

export class OverlayError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OverlayError';
  }
}

/** Image format as qemu-img sees it ("qcow2", "raw"…). */
export async function imageFormat(path: string): Promise<string> {
  const r = await execa('qemu-img', ['info', '--output=json', path], { reject: false });
  if (r.exitCode !== 0) throw new OverlayError(`qemu-img info ${path} failed: ${r.stderr.trim()}`);
  const info = JSON.parse(r.stdout) as { format?: string };
  if (!info.format) throw new OverlayError(`qemu-img info ${path}: no format reported`);
  return info.format;
}

export async function createOverlay(base: string, overlay: string): Promise<string> {
  const absBase = resolve(base);
  if (!existsSync(absBase)) throw new OverlayError(`base image ${absBase} does not exist`);
  const format = await imageFormat(absBase);
  const r = await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', format, '-b', absBase, overlay], { reject: false });
  if (r.exitCode !== 0) throw new OverlayError(`qemu-img create overlay ${overlay} on ${absBase} failed: ${r.stderr.trim()}`);
  return overlay;
}
