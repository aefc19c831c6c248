/** `net-list`, `pool-list`, `vol-list`: what the driver has, in virsh's tables. */
import { ListNetworks, STORAGE_POOL_TYPES, StoragePoolState, StorageVolType } from '../../api/flags.js';
import { type Args, defineCommand, flag, type OptionDef, str } from '../command.js';
import { UsageError, withContext } from '../errors.js';
import { prettyCapacity } from '../format/size.js';
import { formatTable } from '../format/table.js';

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const bool = (name: string, help: string): OptionDef => ({ name, kind: 'bool', help });

/** --inactive / --all / filters into the ListNetworks / ListStoragePools bits (both enums agree). */
function listFlags(args: Args): number {
  let flags: number = ListNetworks.ACTIVE;
  if (flag(args, 'inactive')) flags = ListNetworks.INACTIVE;
  if (flag(args, 'all')) flags = ListNetworks.ACTIVE | ListNetworks.INACTIVE;
  if (flag(args, 'persistent')) flags |= ListNetworks.PERSISTENT;
  if (flag(args, 'transient')) flags |= ListNetworks.TRANSIENT;
  if (flag(args, 'autostart')) flags |= ListNetworks.AUTOSTART;
  if (flag(args, 'no-autostart')) flags |= ListNetworks.NO_AUTOSTART;
  return flags;
}

export const netList = defineCommand({
  name: 'net-list',
  group: 'network',
  summary: 'list networks',
  description: 'Returns list of networks.',
  options: [
    bool('inactive', 'list inactive networks'),
    bool('all', 'list inactive & active networks'),
    bool('persistent', 'list persistent networks'),
    bool('transient', 'list transient networks'),
    bool('autostart', 'list networks with autostart enabled'),
    bool('no-autostart', 'list networks with autostart disabled'),
    bool('uuid', "list uuid's only"),
    bool('name', 'list network names only'),
    bool('table', 'list table (default)'),
  ],
  async run(ctx, args) {
    if (['table', 'name', 'uuid'].filter((o) => flag(args, o)).length > 1) {
      throw new UsageError('Only one argument from --table, --name and --uuid may be specified.');
    }
    const conn = await ctx.connection();
    const nets = (await withContext('Failed to list networks', () => conn.listAllNetworks(listFlags(args)))).sort(byName);
    if (flag(args, 'name') || flag(args, 'uuid')) {
      ctx.out(nets.map((n) => `${flag(args, 'uuid') ? n.uuid : n.name}\n`).join(''));
      return;
    }
    const rows = nets.map((n) => [n.name, n.active ? 'active' : 'inactive', yesNo(n.autostart), yesNo(n.persistent)]);
    ctx.out(formatTable(['Name', 'State', 'Autostart', 'Persistent'], rows, ctx.quiet));
  },
});

const POOL_STATES: Record<number, string> = {
  [StoragePoolState.INACTIVE]: 'inactive',
  [StoragePoolState.BUILDING]: 'building',
  [StoragePoolState.RUNNING]: 'running',
  [StoragePoolState.DEGRADED]: 'degraded',
  [StoragePoolState.INACCESSIBLE]: 'inaccessible',
};

/** `--type dir,logical`: the pool-type bits of virConnectListAllStoragePools. */
function typeFlags(types: string | undefined): number {
  let flags = 0;
  for (const t of (types ?? '').split(',').filter(Boolean)) {
    const i = (STORAGE_POOL_TYPES as readonly string[]).indexOf(t);
    if (i < 0) throw new UsageError(`Invalid pool type '${t}'`);
    flags |= 64 << i;
  }
  return flags;
}

export const poolList = defineCommand({
  name: 'pool-list',
  group: 'pool',
  summary: 'list pools',
  description: 'Returns list of pools.',
  options: [
    bool('inactive', 'list inactive pools'),
    bool('all', 'list inactive & active pools'),
    bool('transient', 'list transient pools'),
    bool('persistent', 'list persistent pools'),
    bool('autostart', 'list pools with autostart enabled'),
    bool('no-autostart', 'list pools with autostart disabled'),
    { name: 'type', kind: 'string', help: 'only list pool of specified type(s) (if supported)' },
    bool('details', 'display extended details for pools'),
    bool('uuid', 'list UUID of active pools only'),
    bool('name', 'list name of active pools only'),
  ],
  exclusive: [
    ['details', 'uuid'],
    ['details', 'name'],
  ],
  async run(ctx, args) {
    const conn = await ctx.connection();
    const flags = listFlags(args) | typeFlags(str(args, 'type'));
    const pools = (await withContext('Failed to list pools', () => conn.listAllStoragePools(flags))).sort(byName);
    if (flag(args, 'name') || flag(args, 'uuid')) {
      const fields = (p: (typeof pools)[number]): string[] => [...(flag(args, 'uuid') ? [p.uuid] : []), ...(flag(args, 'name') ? [p.name.padEnd(20)] : [])];
      ctx.out(pools.map((p) => fields(p).join(' ') + '\n').join(''));
      return;
    }
    if (!flag(args, 'details')) {
      const rows = pools.map((p) => [p.name, p.state === StoragePoolState.RUNNING ? 'active' : 'inactive', yesNo(p.autostart)]);
      ctx.out(formatTable(['Name', 'State', 'Autostart'], rows, ctx.quiet));
      return;
    }
    const size = (p: (typeof pools)[number], n: number): string => (p.state === StoragePoolState.RUNNING ? prettyCapacity(n, 2) : '-');
    const rows = pools.map((p) => [
      p.name,
      POOL_STATES[p.state] ?? 'unknown',
      yesNo(p.autostart),
      yesNo(p.persistent),
      size(p, p.capacity),
      size(p, p.allocation),
      size(p, p.available),
    ]);
    ctx.out(formatTable(['Name', 'State', 'Autostart', 'Persistent', 'Capacity', 'Allocation', 'Available'], rows, ctx.quiet));
  },
});

const VOL_TYPES: Record<number, string> = {
  [StorageVolType.FILE]: 'file',
  [StorageVolType.BLOCK]: 'block',
  [StorageVolType.DIR]: 'dir',
  [StorageVolType.NETWORK]: 'network',
  [StorageVolType.NETDIR]: 'netdir',
  [StorageVolType.PLOOP]: 'ploop',
};

export const volList = defineCommand({
  name: 'vol-list',
  group: 'volume',
  summary: 'list vols',
  description: 'Returns list of vols by pool.',
  options: [{ name: 'pool', kind: 'string', required: true, help: 'pool name or uuid' }, bool('details', 'display extended details for volumes')],
  async run(ctx, args) {
    const conn = await ctx.connection();
    const pool = str(args, 'pool')!;
    const vols = (await withContext(`failed to get pool '${pool}'`, () => conn.listAllVolumes(pool, 0))).sort(byName);
    if (flag(args, 'details')) {
      const rows = vols.map((v) => [v.name, v.path, VOL_TYPES[v.type] ?? 'unknown', prettyCapacity(v.capacity, 2), prettyCapacity(v.allocation, 2)]);
      ctx.out(formatTable(['Name', 'Path', 'Type', 'Capacity', 'Allocation'], rows, ctx.quiet));
    } else {
      ctx.out(formatTable(['Name', 'Path'], vols.map((v) => [v.name, v.path]), ctx.quiet));
    }
  },
});
