// How many nested guests the emulated host runs side by side. On the 2-core machine 3 took 0.57
// of the time of 1 for the 15 cases (harness/emulated/README.md "Measured"; 2 and 4 not tried):
// the mock8 host has 2 vCPUs and 3 GiB; a paused nested guest under TCG is
// mostly libvirt and QEMU talking over QMP (hundreds of round trips), so a third guest overlaps
// the waits of the other two. Every emulated runtime case only reads its own guest's placement
// and none is meant to put a node under pressure (the tiering cells do: they keep to one guest per VM,
// tiering@emulated, limit 1). The huge-page cases share the per-node pools reserved at boot
// (topologies/mock8.json): each is small enough that RUNTIME_JOBS of them fit in one node's pool
// (harness/test/emulated-topology.test.ts checks it), so they too run side by side.
// Two, not three, since 2026-12-05: the cases do put nodes under pressure after all. A prealloc
// guest without a policy (restrictive, default) fills its local CPU node first, and with three
// guests at once the CPU nodes (which also hold the CLI, libvirtd and every nested QEMU) ran out:
// the guest kernel's OOM killer took a nested QEMU (prealloc-restrictive-0-4-6: 'process exited
// while connecting to monitor') in one full run and the CLI itself in one CI dry run, 2 of 9
// batches that day. Nodes 0 and 1 also reserve fewer huge pages now (topologies/mock8.json).
export const RUNTIME_JOBS = 2;
