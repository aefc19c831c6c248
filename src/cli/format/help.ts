/** virsh's help layout: the grouped command list and the NAME/SYNOPSIS/DESCRIPTION/OPTIONS page. */
import type { CommandDef, CommandGroup, OptionDef } from '../command.js';

/** Group titles and the keywords `help KEYWORD` accepts, in virsh's order. */
export const GROUPS: readonly { group: CommandGroup; title: string; keywords: readonly string[] }[] = [
  { group: 'domain', title: 'Domain Management', keywords: ['domain'] },
  { group: 'monitor', title: 'Domain Monitoring', keywords: ['monitor'] },
  { group: 'events', title: 'Domain Events', keywords: ['events'] },
  { group: 'host', title: 'Host and Hypervisor', keywords: ['host'] },
  { group: 'network', title: 'Networking', keywords: ['network'] },
  { group: 'pool', title: 'Storage Pool', keywords: ['pool'] },
  { group: 'volume', title: 'Storage Volume', keywords: ['volume'] },
  { group: 'virsh', title: 'Virtkit itself', keywords: ['virtkit', 'virsh'] },
];

/** The commands of some groups, each group headed by its title. */
export function formatGroups(commands: readonly CommandDef[], groups = GROUPS): string {
  let out = '';
  for (const g of groups) {
    const members = commands.filter((c) => c.group === g.group).sort((a, b) => (a.name < b.name ? -1 : 1));
    if (members.length === 0) continue;
    out += ` ${g.title} (help keyword '${g.keywords[0]}'):\n`;
    for (const c of members) out += `    ${c.name.padEnd(30)} ${c.summary}\n`;
    out += '\n';
  }
  return out;
}

function synopsisPart(o: OptionDef): string {
  if (o.kind === 'bool') return `[--${o.name}]`;
  if (o.kind === 'argv') return o.required ? `<${o.name}>...` : `[<${o.name}>]...`;
  return o.required ? `<${o.name}>` : `[--${o.name} <${o.kind}>]`;
}

function optionLabel(o: OptionDef): string {
  if (o.kind === 'bool') return `--${o.name}`;
  if (o.kind === 'argv') return `<${o.name}>`;
  return o.required ? `[--${o.name}] <${o.kind}>` : `--${o.name} <${o.kind}>`;
}

/** `help COMMAND`: the page virsh prints. */
export function formatCommandHelp(c: CommandDef): string {
  let out = '  NAME\n';
  out += `    ${c.name} - ${c.summary}\n\n`;
  out += '  SYNOPSIS\n';
  out += `    ${[c.name, ...c.options.map(synopsisPart)].join(' ')}\n\n`;
  if (c.description) out += `  DESCRIPTION\n    ${c.description}\n\n`;
  if (c.options.length > 0) {
    out += '  OPTIONS\n';
    for (const o of c.options) out += `    ${optionLabel(o).padEnd(15)}  ${o.help}\n`;
    out += '\n';
  }
  return out;
}
