//! The shared conformance suite (ws-testkit) against ws-async-std, its driver spawned on
//! async-std's executor (discontinued upstream, still supported: it runs on async-io too).

mod common;

use common::{Conformance, Executor};

ws_testkit::conformance_suite!(Conformance(Executor::AsyncStd));
