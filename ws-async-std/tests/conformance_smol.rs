//! The shared conformance suite (ws-testkit) against ws-async-std, its driver spawned on
//! smol's global executor.

mod common;

use common::{Conformance, Executor};

ws_testkit::conformance_suite!(Conformance(Executor::Smol));
