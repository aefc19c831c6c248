/** Option definitions many commands share, with virsh's help texts. */
import type { OptionDef } from '../command.js';

/** `[--domain] <string>`: required, first positional. */
export function domainOption(help = 'domain name, id or uuid'): OptionDef {
  return { name: 'domain', kind: 'string', required: true, help };
}

/** `[--file] <string>`: an XML file. */
export function fileOption(help: string): OptionDef {
  return { name: 'file', kind: 'string', required: true, help };
}

/** `--json`: machine-readable output for scripts (a virtkit addition). */
export const jsonOption: OptionDef = { name: 'json', kind: 'bool', help: 'print JSON instead of a table (virtkit extension)' };

/** `--print-xml`: show the device XML instead of applying it. */
export function printXmlOption(what: string): OptionDef {
  return { name: 'print-xml', kind: 'bool', help: `print XML document rather than ${what}` };
}
