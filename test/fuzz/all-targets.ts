/**
 * Every fuzz target. Another area adds its own (as the RPC decoders in rpc-targets.ts) by writing a module that
 * exports FuzzTarget objects and spreading them in here.
 */
import { rpcTargets } from './rpc-targets.js';
import { targets as apiTargets, type FuzzTarget } from './targets.js';

export const targets: FuzzTarget[] = [...apiTargets, ...rpcTargets];
