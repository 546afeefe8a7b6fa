//! `ws-sim`: the proving ground of `ws-core`'s supervisor.
//!
//! The supervisor's promises (DESIGN §3: one transport at a time, a dead peer dropped within
//! `ping_interval + pong_timeout`, no false alarms, backoff by the formula, nothing reconnects
//! after `close()`, every message sent or handed back exactly once, an honest `poll_timeout()`,
//! determinism, stale inputs ignored) are timing properties. They are checked here from the
//! outside, by an [`Observer`] that sees only the calls made and what came out of them, so the
//! same checker serves the property tests, the fault simulator and the fuzz target.
//!
//! - [`Observer`]: the invariant checker, fed [`Observation`]s.
//! - [`ObservedSupervisor`]: a supervisor whose every call is drained and checked.
//! - [`Harness`] and [`Step`]: a virtual clock and a scripted peer; [`check_script`] runs a
//!   script and shrinks a failing one, [`check_determinism`] runs it twice.
//! - [`strategy`]: proptest generators for configs and scripts; [`Scenario::from_bytes`]
//!   decodes any byte string into a config, a seed and a script (the fuzz target's input).
//! - [`storm`]: many clients losing one server at once, per jitter mode (the reconnect-storm
//!   study in `docs/`).
//! - [`driver`]: ws-client's real driver over a scripted runtime, a seeded scheduler decoded
//!   from bytes and an observer of what goes in and out (the `driver` fuzz target).
//! - [`fuzz`]: the checks behind the cargo-fuzz targets, also used to replay their corpus.
//! - [`simulate`]: a deterministic fault simulator that drives a supervisor through hours of
//!   virtual time against a misbehaving server ([`Schedule`]), and [`Report`] of what it
//!   measured.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backoff_bounds;
pub mod driver;
mod fault;
pub mod fuzz;
mod harness;
mod heartbeat_model;
mod ledger;
mod observation;
mod observed;
mod observer;
mod reader;
mod report;
mod rng;
mod scenario;
mod schedule;
mod shrink;
mod simulator;
mod step;
pub mod storm;
pub mod strategy;
mod violation;

pub use backoff_bounds::{TOLERANCE, base_delay, delay_bounds, raise_to_retry_after, within};
pub use fault::{Behaviour, Phase};
pub use harness::{Failure, Harness, check_determinism, check_script, run_script, sample};
pub use observation::{Call, Observation, Returned};
pub use observed::ObservedSupervisor;
pub use observer::{BackoffSample, Counters, Observer};
pub use report::{Report, Spread};
pub use rng::SplitMix;
pub use scenario::Scenario;
pub use schedule::{AppBehaviour, Schedule};
pub use shrink::minimize;
pub use simulator::{Detection, Measurements, SimFailure, simulate};
pub use step::{FrameKind, PongPayload, Step, Target};
pub use violation::{Invariant, Violation};
