//! The supervisor's behaviour, tick by tick, on a virtual clock.
//!
//! Each test names the behaviour it proves and asserts exact times: a deadline fires at the
//! tick at its instant and not one millisecond before.

mod auth;
mod heartbeat;
mod lifecycle;
mod queue;
mod reconnect;
mod replay;
mod support;
