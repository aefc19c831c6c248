/** `list`: the domains of the connection, as virsh's table, names, UUIDs, ids or JSON. */
import type { Domain } from '../../api/domain.js';
import { ListDomains } from '../../api/flags.js';
import { type Args, defineCommand, flag } from '../command.js';
import { formatJson } from '../format/json.js';
import { stateName } from '../format/states.js';
import { formatTable } from '../format/table.js';
import { jsonOption } from './options.js';

interface Row {
  id: number;
  name: string;
  uuid: string;
  state: string;
  title?: string;
}

/** virsh's filter options (in its order) and the ListDomains flag each adds. */
const FILTERS: [string, number, string][] = [
  ['transient', ListDomains.TRANSIENT, 'list transient domains'],
  ['persistent', ListDomains.PERSISTENT, 'list persistent domains'],
  ['with-snapshot', ListDomains.HAS_SNAPSHOT, 'list domains with existing snapshot'],
  ['without-snapshot', ListDomains.NO_SNAPSHOT, 'list domains without a snapshot'],
  ['with-checkpoint', ListDomains.HAS_CHECKPOINT, 'list domains with existing checkpoint'],
  ['without-checkpoint', ListDomains.NO_CHECKPOINT, 'list domains without a checkpoint'],
  ['state-running', ListDomains.RUNNING, 'list domains in running state'],
  ['state-paused', ListDomains.PAUSED, 'list domains in paused state'],
  ['state-shutoff', ListDomains.SHUTOFF, 'list domains in shutoff state'],
  ['state-other', ListDomains.OTHER, 'list domains in other states'],
  ['autostart', ListDomains.AUTOSTART, 'list domains with autostart enabled'],
  ['no-autostart', ListDomains.NO_AUTOSTART, 'list domains with autostart disabled'],
  ['with-managed-save', ListDomains.MANAGEDSAVE, 'list domains with managed save state'],
  ['without-managed-save', ListDomains.NO_MANAGEDSAVE, 'list domains without managed save'],
];

/** The `<title>` of a domain's current definition ('' when it has none), as `list --title` shows it. */
async function titleOf(dom: Domain): Promise<string> {
  const m = /<title>([^<]*)<\/title>/.exec(await dom.getXMLDesc(0));
  return m ? unescapeXml(m[1]!).split('\n')[0]! : '';
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
}

function listFlags(args: Args): number {
  let flags: number = ListDomains.ACTIVE;
  if (flag(args, 'inactive')) flags = ListDomains.INACTIVE;
  if (flag(args, 'all')) flags = ListDomains.ACTIVE | ListDomains.INACTIVE;
  for (const [name, bit] of FILTERS) if (flag(args, name)) flags |= bit;
  return flags;
}

async function toRow(dom: Domain, args: Args): Promise<Row> {
  const [id, st] = await Promise.all([dom.getID(), dom.getState()]);
  const row: Row = { id, name: dom.name, uuid: dom.uuid, state: stateName(st.state) };
  // --managed-save: an inactive domain with a saved state shows "saved" (virsh's display option, not a filter).
  if (flag(args, 'managed-save') && id < 0 && (await dom.hasManagedSaveImage())) row.state = 'saved';
  if (flag(args, 'title')) row.title = await titleOf(dom);
  return row;
}

/** virsh's order: running domains by id, then inactive ones by name. */
function byIdThenName(a: Row, b: Row): number {
  if (a.id >= 0 && b.id >= 0) return a.id - b.id;
  if (a.id >= 0) return -1;
  if (b.id >= 0) return 1;
  return a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0;
}

const idText = (id: number): string => (id >= 0 ? String(id) : '-');

function fieldsOutput(rows: Row[], args: Args): string {
  const uuid = flag(args, 'uuid');
  const id = flag(args, 'id');
  const name = flag(args, 'name');
  // `--id` alone lists running domains only; combined, inactive ones show "-".
  const shown = id && !uuid && !name ? rows.filter((r) => r.id >= 0) : rows;
  return shown
    .map((r) => {
      const parts: string[] = [];
      if (uuid) parts.push(r.uuid);
      if (id) parts.push(idText(r.id));
      if (name) parts.push(r.name);
      return parts.join(' ') + '\n';
    })
    .join('');
}

export const list = defineCommand({
  name: 'list',
  group: 'monitor',
  summary: 'list domains',
  description: 'Returns list of domains.',
  options: [
    { name: 'inactive', kind: 'bool', help: 'list inactive domains' },
    { name: 'all', kind: 'bool', help: 'list inactive & active domains' },
    ...FILTERS.map(([name, , help]) => ({ name, kind: 'bool' as const, help })),
    { name: 'uuid', kind: 'bool', help: "list uuid's only" },
    { name: 'name', kind: 'bool', help: 'list domain names only' },
    { name: 'id', kind: 'bool', help: 'list domain IDs only' },
    { name: 'table', kind: 'bool', help: 'list table (default)' },
    { name: 'managed-save', kind: 'bool', help: 'mark inactive domains with managed save state' },
    { name: 'title', kind: 'bool', help: 'show domain title' },
    jsonOption,
  ],
  exclusive: [
    ['table', 'name'],
    ['table', 'uuid'],
    ['table', 'id'],
    ['json', 'table'],
    ['json', 'name'],
    ['json', 'uuid'],
    ['json', 'id'],
  ],
  async run(ctx, args) {
    const conn = await ctx.connection();
    const rows = (await Promise.all((await conn.listAllDomains(listFlags(args))).map((d) => toRow(d, args)))).sort(byIdThenName);
    const title = flag(args, 'title');
    if (flag(args, 'json')) {
      ctx.out(formatJson(rows.map((r) => ({ id: r.id >= 0 ? r.id : null, name: r.name, uuid: r.uuid, state: r.state, ...(title ? { title: r.title } : {}) }))));
    } else if (flag(args, 'uuid') || flag(args, 'name') || flag(args, 'id')) {
      ctx.out(fieldsOutput(rows, args));
    } else if (title) {
      ctx.out(formatTable(['Id', 'Name', 'State', 'Title'], rows.map((r) => [idText(r.id), r.name, r.state, r.title ?? '']), ctx.quiet));
    } else {
      ctx.out(formatTable(['Id', 'Name', 'State'], rows.map((r) => [idText(r.id), r.name, r.state]), ctx.quiet));
    }
  },
});
