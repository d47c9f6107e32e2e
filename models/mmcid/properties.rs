//! What per-mm concurrency IDs must keep, as properties.

use kmodel_harness::prelude::*;

properties! {
    CID_UNIQUE = "cid-unique":
        "two tasks of the mm running in user space at the same time never see the same \
         mm_cid (and once quiet no CID has two owners)";
    CID_IN_RANGE = "cid-in-range":
        "every mm_cid published to user space is < num_possible_cpus()";
    CIDMASK_IN_BOUNDS = "cidmask-in-bounds":
        "no access to mm_cidmask(mm) beyond its num_possible_cpus() bits";
    NO_LIVELOCK:
        "mm_get_cid() never spins forever with its rq lock held: a free CID exists or \
         someone who does not need that lock frees one";
    NO_CID_LEAK = "no-cid-leak":
        "once quiet, the bits of mm_cidmask are exactly the CIDs owned by tasks (plain) \
         and CPUs (ONCPU)";
    NO_TRANSIT_LEFT = "no-transit-left":
        "once quiet, no transition state is left: mode has no TRANSIT, no sleeping task \
         holds a TRANSIT CID, no task owns a CID in per-CPU mode, no CPU in per-task mode";
    SWITCH_BACK = "switch-back-at-recorded-thrs":
        "an mm whose user count dropped below the threshold recorded when it entered \
         per-CPU mode is back in per-task mode (changelog of V3 17/20)";
    DATA_RACE:
        "no data race (LKMM, KCSAN): no two conflicting accesses, at least one plain, \
         unordered by happens-before";
}
