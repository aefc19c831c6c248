/** The live copy of a definition a QEMU process is started from: id, aliases, tap names, USB ports (tests; the engine plans it for the driver). */
import { assignLiveNames, type DomainDef, flavourOf, type LiveNaming } from '../../conf/index.js';

export function liveDefinition(inactive: DomainDef, id: number, naming: LiveNaming): DomainDef {
  const live = inactive.clone();
  live.root.removeAttr('id');
  // libvirt prints id right after type: <domain type='kvm' id='1'>
  live.root.attrs.splice(live.root.attrs.findIndex(([k]) => k === 'type') + 1, 0, ['id', String(id)]);
  assignLiveNames(live, flavourOf(live.type), naming);
  return live;
}
