/**
 * Optional RelaxNG validation against libvirt's own schemas (like VIR_DOMAIN_DEFINE_VALIDATE),
 * with libxml2 compiled to wasm. The wasm module is imported only when someone validates, and
 * each grammar is compiled once (~100 ms) and kept: validating a document then costs ~1 ms.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ErrorDetail, RelaxNGValidator, XmlDocument } from 'libxml2-wasm';
import { ErrorCode, ErrorDomain, VirtError } from '../errors.js';
import { parseXml, type XmlElement } from '../xml/index.js';

type Lib = typeof import('libxml2-wasm');
type Kind = 'domain' | 'device';

const SYSTEM_SCHEMA_DIR = '/usr/share/libvirt/schemas';

/** Folder holding domain.rng and its includes; throws OPERATION_UNSUPPORTED when there is none. */
export function schemaDir(): string {
  const fromEnv = process.env['VIRTKIT_SCHEMA_DIR'];
  // An explicit setting that points nowhere is a mistake worth reporting, not a reason to guess.
  if (fromEnv) {
    if (existsSync(join(fromEnv, 'domain.rng'))) return fromEnv;
    throw new VirtError(ErrorCode.OPERATION_UNSUPPORTED, `VIRTKIT_SCHEMA_DIR=${fromEnv} holds no domain.rng`);
  }
  if (existsSync(join(SYSTEM_SCHEMA_DIR, 'domain.rng'))) return SYSTEM_SCHEMA_DIR;
  const corpus = process.env['VIRTKIT_CORPUS_DIR'] || join(homedir(), '.cache', 'libvirt-corpus');
  const fromCorpus = join(corpus, 'libvirt-9.0.0', 'src', 'conf', 'schemas');
  if (existsSync(join(fromCorpus, 'domain.rng'))) return fromCorpus;
  throw new VirtError(
    ErrorCode.OPERATION_UNSUPPORTED,
    'RelaxNG validation needs libvirt schemas: install libvirt0 or set VIRTKIT_SCHEMA_DIR',
  );
}

let lib: Promise<Lib> | undefined;
/** Schema folders the input provider may read from; libxml2 asks it for every <include href>. */
const allowedDirs = new Set<string>();
const validators = new Map<string, Promise<RelaxNGValidator>>();

function loadLib(): Promise<Lib> {
  lib ??= import('libxml2-wasm').then((m) => {
    // The wasm libxml2 has no file system of its own: includes are read through this provider,
    // which serves only files inside known schema folders (never arbitrary paths a document names).
    const inside = (f: string) => [...allowedDirs].some((d) => f.startsWith(d + '/')) && !f.includes('/../');
    m.xmlRegisterInputProvider({
      match: (f) => inside(f) && existsSync(f),
      open: (f) => {
        try {
          return openSync(f, 'r');
        } catch {
          return undefined;
        }
      },
      read: (fd, buf) => {
        try {
          return readSync(fd, buf, 0, buf.byteLength, null);
        } catch {
          return -1;
        }
      },
      close: (fd) => {
        try {
          closeSync(fd);
        } catch {
          // Nothing useful to do: the schema text was already read.
        }
        return true;
      },
    });
    return m;
  });
  return lib;
}

/** Names of the grammar refs allowed inside <devices> (disk, interface, …, vsock), read from the schema itself. */
export function deviceRefs(dir: string): string[] {
  const common = parseXml(readFileSync(join(dir, 'domaincommon.rng'), 'utf8'), { source: 'domaincommon.rng' });
  const def = common.elements('define').find((d) => d.attr('name') === 'devices');
  const refs: string[] = [];
  // Descendants in document order, with an explicit stack (tree walks are iterative throughout virtkit).
  const todo: XmlElement[] = def ? def.elements().reverse() : [];
  while (todo.length > 0) {
    const c = todo.pop()!;
    const name = c.attr('name');
    // <emulator> is the one child of <devices> that is not a device.
    if (c.name === 'ref' && name && name !== 'emulator' && !refs.includes(name)) refs.push(name);
    todo.push(...c.elements().reverse());
  }
  if (refs.length === 0) throw new VirtError(ErrorCode.INTERNAL_ERROR, `no device list in ${dir}/domaincommon.rng`);
  return refs;
}

/** Grammar text and the URL its relative includes resolve against. */
function grammarSource(kind: Kind, dir: string): { text: string; url: string } {
  if (kind === 'domain') return { text: readFileSync(join(dir, 'domain.rng'), 'utf8'), url: join(dir, 'domain.rng') };
  // Like domain.rng but starting at any device. It must include domainoverrides.rng, not
  // domaincommon.rng: the overrides turn on the disk source grammar (else every <disk> fails).
  const choice = deviceRefs(dir)
    .map((r) => `<ref name="${r}"/>`)
    .join('');
  const text =
    '<grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">' +
    `<start><choice>${choice}</choice></start><include href="domainoverrides.rng"/></grammar>`;
  return { text, url: join(dir, 'virtkit-device.rng') };
}

function compile(kind: Kind, dir: string): Promise<RelaxNGValidator> {
  const key = `${kind}\0${dir}`;
  let v = validators.get(key);
  if (!v) {
    v = loadLib().then((m) => {
      allowedDirs.add(dir);
      const { text, url } = grammarSource(kind, dir);
      const rng = m.XmlDocument.fromString(text, { url });
      try {
        return m.RelaxNGValidator.fromDoc(rng);
      } catch (err) {
        throw new VirtError(ErrorCode.INTERNAL_ERROR, `cannot compile ${url}: ${describe(err)}`, { cause: err });
      } finally {
        // The compiled grammar keeps its own copy of the schema document.
        rng.dispose();
      }
    });
    // A failed compile (e.g. unreadable folder) should be retried next time, not cached.
    v.catch(() => validators.delete(key));
    validators.set(key, v);
  }
  return v;
}

function describe(err: unknown): string {
  const details = (err as { details?: ErrorDetail[] }).details;
  if (!Array.isArray(details) || details.length === 0) return err instanceof Error ? err.message.trim() : String(err);
  return details
    .map((d) => {
      const where = d.line > 0 ? `line ${d.line}${d.xpath ? ` (${d.xpath})` : ''}: ` : '';
      return where + d.message.trim();
    })
    .join('\n');
}

async function validate(kind: Kind, xml: string): Promise<void> {
  // Our parser first: it refuses DTDs/entities (libxml2 would happily load them) and
  // reports malformed XML as VIR_ERR_XML_DETAIL with line:column, like libvirt's parse step.
  parseXml(xml, { source: kind === 'domain' ? 'domain definition' : 'device definition' });
  const dir = schemaDir();
  const validator = await compile(kind, dir);
  const m = await loadLib();
  let doc: XmlDocument;
  try {
    doc = m.XmlDocument.fromString(xml);
  } catch (err) {
    throw new VirtError(ErrorCode.XML_DETAIL, `malformed XML: ${describe(err)}`, { domain: ErrorDomain.XML, cause: err });
  }
  try {
    validator.validate(doc);
  } catch (err) {
    const schema = kind === 'domain' ? join(dir, 'domain.rng') : `${join(dir, 'domainoverrides.rng')} (device grammar)`;
    // Same wording as libvirt's virXMLValidateAgainstSchema, plus line numbers.
    throw new VirtError(
      ErrorCode.XML_INVALID_SCHEMA,
      `XML document failed to validate against schema: Unable to validate doc against ${schema}\n${describe(err)}`,
      { domain: ErrorDomain.XML, cause: err },
    );
  } finally {
    doc.dispose();
  }
}

/** Validates a whole <domain> document against libvirt's domain.rng; throws VIR_ERR_XML_INVALID_SCHEMA (92). */
export function validateDomainXml(xml: string): Promise<void> {
  return validate('domain', xml);
}

/** Validates one device element (<disk>, <interface>, … anything <devices> may hold); throws code 92 when invalid. */
export function validateDeviceXml(xml: string): Promise<void> {
  return validate('device', xml);
}

/** Frees the compiled grammars (they are otherwise kept for the life of the process). */
export async function disposeSchemas(): Promise<void> {
  const all = [...validators.values()];
  validators.clear();
  for (const v of await Promise.allSettled(all)) if (v.status === 'fulfilled') v.value.dispose();
}
