/**
 * Dated build quirks: fix-ups a tree needs to build with this project's
 * toolchain, chosen by the source commit's date (and, where a quirk is specific
 * to one mirror, by what the tree lacks). Kept as data: adding a quirk means
 * adding a row.
 */

export interface BuildQuirk {
  id: string;
  /** Inclusive ISO date range of commit dates the quirk applies to (open ends allowed). */
  from?: string;
  to?: string;
  /** Applies only when the tree lacks this path (relative to the sys/ root). */
  whenMissing?: string;
  description: string;
  /** Overlay directories (relative to sharedDir()) copied over the tree, in order. */
  fixups?: string[];
  /** Extra bmake variables for the kernel build. */
  makeVars?: Record<string, string>;
  /** A patch file (relative to sharedDir()) applied after the overlays, before the user's patches. */
  patch?: string;
}

export const BUILD_QUIRKS: readonly BuildQuirk[] = [
  {
    id: 'bluhm-sys-mirror-fixups',
    from: '2026-01-01',
    whenMissing: 'arch/amd64/isa/clock.c',
    description:
      'The bluhm/sys mirror lacks dev/{atapiscsi,gpio,hid,i2c,mii,onewire,pci/drm,pckbc,sdmmc,wsfont} and arch/amd64/isa: ' +
      'copy the sys-fixups overlay (files.* stubs, minimal dev/i2c, and the clock.c 1.70 / isa_machdep.c 1.28 replacements ' +
      'adapted to the 2026 intr_establish prototype; checked at 2026-04-23 and 2026-08-19).',
    fixups: ['openbsd-lab/src/sys-fixups'],
  },
];

export interface QuirkContext {
  /** Commit date (ISO 8601); undefined for plain directory trees. */
  date?: string;
  /** Whether the tree has a path (relative to the sys/ root). */
  has: (rel: string) => Promise<boolean>;
}

/** The quirks that apply to a tree, in table order. Pure apart from the `has` probe. */
export async function selectQuirks(ctx: QuirkContext, table: readonly BuildQuirk[] = BUILD_QUIRKS): Promise<BuildQuirk[]> {
  const out: BuildQuirk[] = [];
  const day = ctx.date?.slice(0, 10);
  for (const q of table) {
    if (day !== undefined) {
      if (q.from && day < q.from) continue;
      if (q.to && day > q.to) continue;
    }
    if (q.whenMissing && (await ctx.has(q.whenMissing))) continue;
    out.push(q);
  }
  return out;
}
