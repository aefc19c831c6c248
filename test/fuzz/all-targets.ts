/**
 * Every fuzz target. Another area adds its own (e.g. h8's RPC decoder) by writing a module that
 * exports FuzzTarget objects and spreading them in here.
 */
import { targets as apiTargets, type FuzzTarget } from './targets.js';

export const targets: FuzzTarget[] = [...apiTargets];
