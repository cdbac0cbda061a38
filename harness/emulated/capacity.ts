// How many nested guests the emulated host runs side by side. On the 2-core machine 3 took 0.57
// of the time of 1 for the 15 cases (harness/emulated/README.md "Measured"; 2 and 4 not tried):
// the mock8 host has 2 vCPUs and 3 GiB; a paused nested guest under TCG is
// mostly libvirt and QEMU talking over QMP (hundreds of round trips), so a third guest overlaps
// the waits of the other two. Every emulated runtime case only reads its own guest's placement
// and none puts a node under pressure (the tiering cells do: they keep to one guest per VM,
// tiering@emulated, limit 1). The huge-page cases share the per-node pools reserved at boot
// (topologies/mock8.json): each is small enough that RUNTIME_JOBS of them fit in one node's pool
// (harness/test/emulated-topology.test.ts checks it), so they too run side by side.
export const RUNTIME_JOBS = 3;
