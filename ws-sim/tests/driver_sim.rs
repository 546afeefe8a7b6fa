//! ws-client's real driver in the deterministic simulation (`ws_sim::driver`): random
//! schedules decoded from bytes, the same space the `driver` fuzz target searches.

use proptest::prelude::*;
use ws_sim::driver::DriverScenario;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every promise of the driver holds on any schedule, and two runs agree.
    #[test]
    fn the_driver_keeps_its_promises_on_any_schedule(data in proptest::collection::vec(any::<u8>(), 0..1200)) {
        let scenario = DriverScenario::from_bytes(&data);
        if let Err(failure) = scenario.check() {
            return Err(TestCaseError::fail(failure.to_string()));
        }
    }
}
