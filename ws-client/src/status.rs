//! What the application's handles can read without asking the driver.

use ws_core::{State, Stats};

use crate::session::Session;

/// The lifecycle state and the counters, published by a driver after every pass of its loop
/// so that a handle's `state()` and `stats()` answer at once.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Status {
    /// The lifecycle state.
    pub state: State,
    /// The supervisor's counters.
    pub stats: Stats,
}

impl Status {
    /// The status of `session` now.
    pub fn of(session: &Session) -> Self {
        Status {
            state: session.state(),
            stats: session.stats(),
        }
    }
}
