/** libvirt's flag and enum values, defined once in src/shared (below every layer) and re-exported for API users. */
export * from '../shared/flags.js';
