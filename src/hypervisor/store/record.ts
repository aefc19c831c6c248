/**
 * One domain's state in one file, so that every commit is a single atomic rename: the
 * persistent definition and the live status can never be half old, half new.
 *
 *   virtkit-domain 1 config=<bytes> status=<bytes>[ shutoff=<reason>]\n
 *   <config XML><status XML>
 *
 * Both parts are plain XML (the status is a `<domstatus>` holding the live `<domain>`),
 * laid end to end; the header gives their UTF-8 lengths. A part of length 0 is absent.
 * A domain that is not running may carry why it stopped (libvirt's shut-off reason), so every
 * process sharing the folder reports the same reason, whichever one saw the domain stop.
 */
const MAGIC = 'virtkit-domain 1';
const HEADER_RE = /^virtkit-domain 1 config=(\d{1,10}) status=(\d{1,10})(?: shutoff=(\d{1,2}))?\n/;

/** The two parts of a domain's state, as text. */
export interface RecordParts {
  config?: string;
  status?: string;
  /** Why a domain without status stopped (StateReason.SHUTOFF_*). */
  shutoffReason?: number;
}

export function formatRecord(parts: RecordParts): Buffer {
  const config = Buffer.from(parts.config ?? '', 'utf8');
  const status = Buffer.from(parts.status ?? '', 'utf8');
  const shutoff = status.length === 0 && parts.shutoffReason !== undefined ? ` shutoff=${parts.shutoffReason}` : '';
  const header = Buffer.from(`${MAGIC} config=${config.length} status=${status.length}${shutoff}\n`, 'latin1');
  return Buffer.concat([header, config, status]);
}

/** Splits a record; undefined when the bytes are not a complete record (never written by virtkit, or cut). */
export function parseRecord(bytes: Buffer): RecordParts | undefined {
  const head = bytes.subarray(0, 96).toString('latin1');
  const m = HEADER_RE.exec(head);
  if (!m) return undefined;
  const start = m[0].length;
  const configLen = Number(m[1]);
  const statusLen = Number(m[2]);
  if (start + configLen + statusLen !== bytes.length) return undefined;
  const parts: RecordParts = {};
  if (configLen > 0) parts.config = bytes.toString('utf8', start, start + configLen);
  if (statusLen > 0) parts.status = bytes.toString('utf8', start + configLen, start + configLen + statusLen);
  else if (m[3] !== undefined) parts.shutoffReason = Number(m[3]);
  return parts;
}
