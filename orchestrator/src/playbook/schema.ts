/**
 * The playbook schema (JSON Schema draft-07, built with TypeBox). Every property has
 * a title and a description so YAML language servers can show help while editing.
 * Structural rules live here; rules that need the whole document (names that must
 * exist, links with two ends, address ranges) live in semantic.ts.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { OUTCOMES } from '../run/outcome.ts';

export const NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]*$';
export const MEMORY_PATTERN = '^[1-9][0-9]*(M|MiB|G|GiB)?$';
export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(s|m)?$';
export const SSH_TARGET_PATTERN = '^[A-Za-z0-9._-]+@[A-Za-z0-9._:\\[\\]-]+?(:[0-9]{1,5})?$';

/** Human wording for unions, by schema title: "must be <hint>". */
export const UNION_HINTS: Record<string, string> = {
  Memory: 'MiB as a number, or a size such as "512M" or "1G"',
  Duration: 'seconds as a number, or a string such as "30s" or "2m"',
  Forwarding: 'true, false or {inet: BOOL, inet6: BOOL}',
  Builder: '"cross", {vm: IMAGE} or {ssh: user@host[:port], key: FILE}',
  Source: '{git: PATH, rev: REV}, {tree: DIR} or {cvs: ROOT, date: DATE}',
  Order: '"interleave", "blocked" or {random: SEED}',
  Group: 'a group name or number',
  Value: 'a string, number or boolean',
  'Condition value': 'a value or a list of values',
};

/** Human wording for pattern failures (ajv would only print the regex). */
export const PATTERN_HINTS: Record<string, string> = {
  [NAME_PATTERN]: 'a name: a letter, then letters, digits, "_", "." or "-"',
  [MEMORY_PATTERN]: 'a memory size: MiB as a number, or "512M", "1G"',
  [DURATION_PATTERN]: 'a duration: seconds as a number, or "30s", "2m"',
  [SSH_TARGET_PATTERN]: 'user@host or user@host:port',
};

export const GUEST_KINDS = ['testguest', 'openbsd', 'openbsd-lab'] as const;
export const STEP_OPS = ['exec', 'sysctl', 'panic', 'sleep', 'counters', 'profile', 'pf'] as const;

function doc(title: string, description: string): { title: string; description: string } {
  return { title, description };
}

function StringEnum<T extends readonly string[]>(values: T, title: string, description: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], title, description });
}

function NamedMap<T extends TSchema>(item: T, title: string, description: string) {
  return Type.Record(Type.String({ pattern: NAME_PATTERN }), item, {
    additionalProperties: false,
    title,
    description,
  });
}

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean()], { title: 'Value', description: 'A string, number or boolean.' });

const Params = (title: string, description: string) =>
  Type.Record(Type.String(), Scalar, { title, description });

const When = Type.Record(Type.String({ pattern: NAME_PATTERN }), Type.Union([Scalar, Type.Array(Scalar, { minItems: 1 })], { title: 'Condition value', description: 'A value or a list of values.' }), {
  additionalProperties: false,
  ...doc(
    'Condition',
    'Only in matrix cells whose axes have these values, e.g. {btrace: on}. A list means any of its values.',
  ),
});

const Duration = Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })], {
  ...doc('Duration', 'Seconds as a number, or a string such as "30s" or "2m".'),
});

// ---------------------------------------------------------------- kernels

const GitSource = Type.Object(
  {
    git: Type.String({ minLength: 1, ...doc('Git repository', 'Path of a git mirror or bundle of OpenBSD src (or sys), relative to the playbook; or a URL.') }),
    rev: Type.String({ minLength: 1, ...doc('Revision', 'Commit to build (hash, tag or branch).') }),
  },
  { additionalProperties: false, ...doc('Git source', 'Build from a commit of a git mirror.') },
);
const TreeSource = Type.Object(
  { tree: Type.String({ minLength: 1, ...doc('Source tree', 'Directory holding a src (or sys) tree, relative to the playbook.') }) },
  { additionalProperties: false, ...doc('Tree source', 'Build from a plain directory.') },
);
const CvsSource = Type.Object(
  {
    cvs: Type.String({ minLength: 1, ...doc('CVS root', 'CVSROOT to check out from, e.g. anoncvs@anoncvs.example.org:/cvs, or a local path.') }),
    date: Type.String({ minLength: 1, ...doc('Date', 'Checkout date (cvs -D), e.g. "2026-04-23 00:00 UTC".') }),
  },
  { additionalProperties: false, ...doc('CVS source', 'Build from a CVS checkout at a date.') },
);

const Builder = Type.Union(
  [
    Type.Literal('cross', doc('Cross build', 'Build on this Linux host with clang/lld and a host-built config(8).')),
    Type.Object(
      { vm: Type.String({ minLength: 1, ...doc('Builder image', 'Disk image of an OpenBSD builder VM, relative to the playbook.') }) },
      { additionalProperties: false, ...doc('Builder VM', 'Build inside an OpenBSD VM booted from this image.') },
    ),
    Type.Object(
      {
        ssh: Type.String({ pattern: SSH_TARGET_PATTERN, ...doc('SSH target', 'user@host[:port] of an OpenBSD build host.') }),
        key: Type.Optional(Type.String({ minLength: 1, ...doc('SSH key', 'Private key file for the build host, relative to the playbook.') })),
      },
      { additionalProperties: false, ...doc('SSH builder', 'Build on an OpenBSD host over SSH.') },
    ),
  ],
  doc('Builder', 'Where the kernel is built: "cross", {vm: IMAGE} or {ssh: user@host:port, key: FILE}.'),
);

export const KernelEntrySchema = Type.Object(
  {
    extends: Type.Optional(Type.String({ pattern: NAME_PATTERN, ...doc('Extends', 'Name of another kernel whose keys this one inherits; keys given here override them.') })),
    kernel: Type.Optional(Type.String({ minLength: 1, ...doc('Kernel file', 'Prebuilt kernel image (bsd, vmlinuz), relative to the playbook.') })),
    initrd: Type.Optional(Type.String({ minLength: 1, ...doc('Initrd', 'Initial ramdisk for a prebuilt Linux kernel, relative to the playbook.') })),
    append: Type.Optional(Type.String(doc('Kernel command line', 'Extra kernel command line for a prebuilt kernel booted directly.'))),
    image: Type.Optional(Type.String({ minLength: 1, ...doc('Boot image', 'Prebuilt bootable image (ISO or disk) holding the kernel, relative to the playbook.') })),
    source: Type.Optional(
      Type.Union([GitSource, TreeSource, CvsSource], doc('Source', 'What to build: {git, rev}, {tree} or {cvs, date}.')),
    ),
    fixups: Type.Optional(Type.Array(Type.String({ minLength: 1 }), doc('Fix-ups', 'Directories copied over the tree before config, in order, relative to the playbook.'))),
    patches: Type.Optional(Type.Array(Type.String({ minLength: 1 }), doc('Patches', 'Diff files applied in order (after a dry-run check), relative to the playbook.'))),
    config: Type.Optional(Type.String({ minLength: 1, ...doc('Kernel config', 'A config name shipped in the tree (GENERIC.MP, LAB) or, when it contains "/", a config file relative to the playbook.') })),
    builder: Type.Optional(Builder),
  },
  {
    additionalProperties: false,
    ...doc(
      'Kernel',
      'Prebuilt ({kernel, initrd, append} or {image}) or built ({source, fixups, patches, config, builder}); "extends" inherits from another kernel.',
    ),
  },
);

// ---------------------------------------------------------------- VMs

const Nic = Type.Object(
  {
    link: Type.String({ pattern: NAME_PATTERN, ...doc('Link', 'Name of the point-to-point link this NIC is plugged into; exactly two NICs share a link.') }),
    addrs: Type.Optional(Type.Array(Type.String(), doc('Addresses', 'CIDR addresses, only from 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32.'))),
    mtu: Type.Optional(Type.Integer({ minimum: 576, maximum: 65520, ...doc('MTU', 'Interface MTU (576..65520; at least 1280 with IPv6). Default: the link MTU, else 1500.') })),
  },
  { additionalProperties: false, ...doc('NIC', 'A test NIC (virtio-net). The management NIC is implicit.') },
);

const Route = Type.Object(
  {
    dest: Type.String({ minLength: 1, ...doc('Destination', 'CIDR in the documentation ranges, or "default" (family from the gateway).') }),
    gateway: Type.String({ minLength: 1, ...doc('Gateway', 'Next hop; must be on one of the VM\'s links.') }),
  },
  { additionalProperties: false, ...doc('Route', 'A static route.') },
);

const Forwarding = Type.Union(
  [
    Type.Boolean(doc('Forwarding', 'true: IPv4 and IPv6 forwarding on.')),
    Type.Object(
      {
        inet: Type.Optional(Type.Boolean(doc('IPv4 forwarding', 'net.inet.ip.forwarding'))),
        inet6: Type.Optional(Type.Boolean(doc('IPv6 forwarding', 'net.inet6.ip6.forwarding'))),
      },
      { additionalProperties: false, ...doc('Forwarding per family', '{inet, inet6}') },
    ),
  ],
  doc('Forwarding', 'true/false for both families, or {inet, inet6}. Default off.'),
);

const Pf = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean(doc('Enabled', 'Turn pf on (default true when a pf block is given).'))),
    rules: Type.Optional(Type.String(doc('Rules', 'pf.conf text loaded before enabling pf.'))),
    rulesFile: Type.Optional(Type.String({ minLength: 1, ...doc('Rules file', 'pf.conf file, relative to the playbook (instead of inline rules).') })),
  },
  { additionalProperties: false, ...doc('pf', 'Packet filter on this VM.') },
);

const vmProperties = {
  guest: StringEnum(GUEST_KINDS, 'Guest kind', 'testguest (Linux stand-in), openbsd (installed, SSH) or openbsd-lab (ramdisk agent on the console).'),
  cpus: Type.Integer({ minimum: 1, maximum: 64, ...doc('vCPUs', 'Number of virtual CPUs. Default 1.') }),
  memory: Type.Union([Type.Integer({ minimum: 16 }), Type.String({ pattern: MEMORY_PATTERN })], doc('Memory', 'MiB as a number, or "512M", "1G". Default 256M (testguest), 512M (openbsd-lab), 1G (openbsd).')),
  kernel: Type.String({ minLength: 1, ...doc('Kernel', 'Name of an entry of `kernels`; may interpolate matrix values, e.g. "${variant}".') }),
  disk: Type.String({ minLength: 1, ...doc('Disk', 'Base disk image (never written; each run gets an overlay), relative to the playbook.') }),
  image: Type.String({ minLength: 1, ...doc('Image', 'Same as disk.') }),
  iso: Type.String({ minLength: 1, ...doc('ISO', 'ISO to boot from, relative to the playbook.') }),
  boot: Type.Array(Type.String(), doc('Boot commands', 'Lines typed at the OpenBSD boot> prompt, in order.')),
  consoleOnly: Type.Boolean(doc('Console only', 'No SSH: commands and outcome go over the serial console. Default true for openbsd-lab.')),
  nics: Type.Array(Nic, doc('NICs', 'Test NICs in order (vio0, vio1 ... / eth1, eth2 ...).')),
  routes: Type.Array(Route, doc('Routes', 'Static routes.')),
  forwarding: Forwarding,
  pf: Pf,
  sysctls: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), Scalar, {
    additionalProperties: false,
    ...doc('sysctls', 'sysctl name → value, set after boot.'),
  }),
  sshKey: Type.String({ minLength: 1, ...doc('SSH key', 'Private key for a bring-your-own image, relative to the playbook.') }),
};

export const VmSchema = Type.Object(
  {
    guest: vmProperties.guest,
    cpus: Type.Optional(vmProperties.cpus),
    memory: Type.Optional(vmProperties.memory),
    kernel: vmProperties.kernel,
    disk: Type.Optional(vmProperties.disk),
    image: Type.Optional(vmProperties.image),
    iso: Type.Optional(vmProperties.iso),
    boot: Type.Optional(vmProperties.boot),
    consoleOnly: Type.Optional(vmProperties.consoleOnly),
    nics: Type.Optional(vmProperties.nics),
    routes: Type.Optional(vmProperties.routes),
    forwarding: Type.Optional(vmProperties.forwarding),
    pf: Type.Optional(vmProperties.pf),
    sysctls: Type.Optional(vmProperties.sysctls),
    sshKey: Type.Optional(vmProperties.sshKey),
  },
  { additionalProperties: false, ...doc('VM', 'A virtual machine of the test topology.') },
);

const VmOverrideSchema = Type.Partial(VmSchema, doc('VM override', 'Keys replacing those of the base VM (objects are merged).'));

// ---------------------------------------------------------------- links, steps, load

const Link = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, ...doc('Name', 'Link name used by the NICs.') }),
    mtu: Type.Optional(Type.Integer({ minimum: 576, maximum: 65520, ...doc('MTU', 'MTU of both ends unless a NIC says otherwise. Default 1500.') })),
  },
  { additionalProperties: false, ...doc('Link', 'A point-to-point wire between two NICs (a unix-socket netdev).') },
);

export const StepSchema = Type.Object(
  {
    vm: Type.String({ minLength: 1, ...doc('VM', 'VM the step runs on.') }),
    op: StringEnum(STEP_OPS, 'Operation', 'exec {command}, sysctl {name, value}, panic, sleep {seconds}, counters, profile {seconds}, pf {enabled, rules}.'),
    args: Type.Optional(Params('Arguments', 'Arguments of the operation.')),
    at: Type.Optional(Type.Number({ minimum: 0, ...doc('At', 'Run this many seconds after the load starts instead of before it (fault injection).') })),
    when: Type.Optional(When),
  },
  { additionalProperties: false, ...doc('Setup step', 'A step run before the load (or during it, with "at").') },
);

export const LoadSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, ...doc('Name', 'Phase name, unique; used in measurement names (tcp4, frag6 ...).') }),
    generator: Type.String({ pattern: NAME_PATTERN, ...doc('Generator', 'Load generator: iperf3, ping, tcpbench, udpbench, btrace, profile ... (checked against the registry).') }),
    from: Type.String({ minLength: 1, ...doc('From', 'VM running the client side or the command.') }),
    to: Type.Optional(Type.String({ minLength: 1, ...doc('To', 'VM running the server side / the target.') })),
    via: Type.Optional(
      Type.String({
        minLength: 1,
        ...doc('Via', 'OpenBSD VM that relays the connections with socket splicing (SO_SPLICE): the client connects to it, it splices each connection to "to". TCP generators only (iperf3, tcpbench).'),
      }),
    ),
    duration: Type.Optional(Duration),
    params: Type.Optional(Params('Parameters', 'Generator parameters, e.g. {family: 6, protocol: udp, parallel: 4, size: 4000, count: 200}.')),
    group: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0 })], doc('Group', 'Phases with the same group start together (e.g. load and a profile). Default: a group of its own.'))),
    when: Type.Optional(When),
  },
  { additionalProperties: false, ...doc('Load phase', 'A workload run between VMs (or on one VM).') },
);

const Timeouts = Type.Object(
  {
    boot: Type.Optional(Type.Number({ exclusiveMinimum: 0, ...doc('Boot', 'Seconds from VM start until the guest takes commands. Default 300.') })),
    ssh: Type.Optional(Type.Number({ exclusiveMinimum: 0, ...doc('SSH', 'Seconds to establish an SSH session. Default 60.') })),
    command: Type.Optional(Type.Number({ exclusiveMinimum: 0, ...doc('Command', 'Seconds a guest command may take. Default 60.') })),
    load: Type.Optional(Type.Number({ exclusiveMinimum: 0, ...doc('Load', 'Seconds a load phase may overrun its duration before it counts as stuck. Default 120.') })),
    ddbCommand: Type.Optional(Type.Number({ exclusiveMinimum: 0, ...doc('ddb command', 'Seconds for one ddb command to answer. Default 30.') })),
    hang: Type.Optional(Type.Number({ exclusiveMinimum: 0, ...doc('Hang', 'Seconds of console and SSH silence that count as a hang. Default 120.') })),
    run: Type.Optional(Type.Number({ exclusiveMinimum: 0, ...doc('Run', 'Seconds for the whole run. Default 1800.') })),
  },
  { additionalProperties: false, ...doc('Timeouts', 'Seconds; defaults apply to keys not given.') },
);

const VariantSchema = Type.Object(
  {
    description: Type.Optional(Type.String(doc('Description', 'What this variant changes.'))),
    vms: Type.Optional(NamedMap(VmOverrideSchema, 'VM overrides', 'Per VM, keys merged onto the base VM.')),
    setup: Type.Optional(Type.Array(StepSchema, doc('Extra setup', 'Steps appended to the base setup.'))),
    load: Type.Optional(Type.Array(LoadSchema, doc('Extra load', 'Phases appended to the base load.'))),
    timeouts: Type.Optional(Timeouts),
  },
  { additionalProperties: false, ...doc('Variant', 'A partial override deep-merged onto the base playbook.') },
);

const Adaptive = Type.Object(
  {
    metric: StringEnum(['panic-rate', 'throughput'] as const, 'Metric', 'panic-rate or throughput.'),
    measurement: Type.Optional(Type.String({ minLength: 1, ...doc('Measurement', 'Measurement name for throughput, e.g. tcp4.throughput.') })),
    compare: Type.Tuple([Type.String({ minLength: 1 }), Type.String({ minLength: 1 })], doc('Compare', 'Two variant names or cell selectors ("variant=proxy,btrace=on").')),
    confidence: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, ...doc('Confidence', 'Stop when the difference is decided at this confidence. Default 0.95.') })),
    maxRuns: Type.Optional(Type.Integer({ minimum: 1, ...doc('Max runs', 'Upper bound on runs per compared cell. Default 30.') })),
  },
  { additionalProperties: false, ...doc('Adaptive', 'Add repetitions until the comparison is decided.') },
);

const Order = Type.Union(
  [
    StringEnum(['interleave', 'blocked'] as const, 'Order', 'interleave: round-robin over cells per repetition; blocked: all repetitions of a cell together.'),
    Type.Object(
      { random: Type.Integer({ minimum: 0, maximum: 4294967295, ...doc('Seed', 'Seed of the permutation; the same seed gives the same order.') }) },
      { additionalProperties: false, ...doc('Random order', 'A seeded random permutation of all runs.') },
    ),
  ],
  doc('Order', 'interleave (default), blocked or {random: SEED}.'),
);

export const PlaybookSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, ...doc('Name', 'Playbook name (part of MAC addresses and reports).') }),
    description: Type.Optional(Type.String(doc('Description', 'What this playbook tests.'))),
    kernels: NamedMap(KernelEntrySchema, 'Kernels', 'Named kernels, prebuilt or built from source.'),
    vms: NamedMap(VmSchema, 'VMs', 'Named virtual machines.'),
    links: Type.Optional(Type.Array(Link, doc('Links', 'Explicit links (with MTU). Default: implied by the NICs.'))),
    setup: Type.Optional(Type.Array(StepSchema, doc('Setup', 'Steps before (or, with "at", during) the load.'))),
    load: Type.Optional(Type.Array(LoadSchema, doc('Load', 'Load phases, in order.'))),
    variants: Type.Optional(NamedMap(VariantSchema, 'Variants', 'Named partial overrides; the matrix axis "variant" picks them.')),
    matrix: Type.Optional(
      Type.Record(Type.String({ pattern: NAME_PATTERN }), Type.Array(Scalar, { minItems: 1, uniqueItems: true }), {
        additionalProperties: false,
        ...doc('Matrix', 'Axis name → values; every combination is a cell. The "variant" axis names variants (default: all of them).'),
      }),
    ),
    repetitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, ...doc('Repetitions', 'Runs per cell. Default 1.') })),
    order: Type.Optional(Order),
    adaptive: Type.Optional(Adaptive),
    timeouts: Type.Optional(Timeouts),
    expect: Type.Optional(
      NamedMap(
        Type.Object(
          { outcome: Type.Optional(StringEnum(OUTCOMES, 'Outcome', 'Expected outcome of every run of the variant.')) },
          { additionalProperties: false, ...doc('Expectation', 'What the variant is expected to produce.') },
        ),
        'Expectations',
        'Per variant name, e.g. {panic: {outcome: panic}}.',
      ),
    ),
  },
  { additionalProperties: false, ...doc('obsdlab playbook', 'A kernel test: kernels, VM topology, load, variants and repetitions.') },
);

export type Playbook = Static<typeof PlaybookSchema>;
export type KernelEntry = Static<typeof KernelEntrySchema>;
export type VmEntry = Static<typeof VmSchema>;
export type StepEntry = Static<typeof StepSchema>;
export type LoadEntry = Static<typeof LoadSchema>;
export type VariantEntry = Static<typeof VariantSchema>;
export type ScalarValue = string | number | boolean;

/** The schema as printed by `obsdlab schema`: plain JSON with the draft-07 marker. */
export function playbookJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://obsdlab.invalid/playbook.schema.json',
    ...(JSON.parse(JSON.stringify(PlaybookSchema)) as Record<string, unknown>),
  };
}
