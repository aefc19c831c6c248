/** Domain UUIDs: libvirt accepts 32 hex digits with or without dashes (and spaces) and prints them dashed. */
import { randomUUID } from 'node:crypto';
import { ErrorCode, virtError } from '../errors.js';

/** Returns the canonical dashed lower-case form, or throws XML_ERROR. */
export function parseUuid(text: string): string {
  const hex = text.trim().replace(/[-\s]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw virtError(ErrorCode.XML_ERROR, `malformed uuid element '${text}'`);
  const h = hex.toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Like parseUuid but returns undefined instead of throwing (for lookups). */
export function normalizeUuid(text: string): string | undefined {
  if (CANONICAL.test(text)) return text;
  const hex = text.trim().replace(/[-\s]/g, '');
  return /^[0-9a-fA-F]{32}$/.test(hex) ? parseUuid(hex) : undefined;
}

export function generateUuid(): string {
  return randomUUID();
}
