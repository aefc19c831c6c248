/** Domain and device definitions shared by every driver. */
export { DomainDef, type OsDef } from './domain.js';
export { parseDomainXml, parseDeviceXml, stripRuntimeNames, type ParsedDevice, type DevicePurpose } from './parse.js';
export { applyDomainDefaults, applyDeviceDefaults, placeDevice } from './defaults.js';
export { validateDomainName, validateDevicesTogether } from './validate.js';
export { assignLiveNames, type LiveNaming } from './names.js';
export { findDevice, findByAlias, checkNoContradiction, type MatchOptions } from './match.js';
export { updateDeviceElement, type UpdateOptions, type UpdateOutcome } from './update.js';
export { checkFlags, resolveImpact, AFFECT_CONFIG, AFFECT_LIVE, type Impact } from './impact.js';
export { flavourOf, type Flavour } from './flavour.js';
export { readDevice, type DeviceDef } from './devices/index.js';
export { readAlias } from './devices/common.js';
export { parseMac, generateMac } from './mac.js';
export { parseUuid, normalizeUuid } from './uuid.js';
export { toKiB } from './units.js';
export { diskNameToIndex, indexToDiskName } from './disk-names.js';
export * from './caps/index.js';
export type { DefaultsOptions } from './defaults.js';
export { normalizeQemuDomain } from './qemu/normalize.js';
