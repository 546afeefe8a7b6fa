//! The bounded channel every adapter carries commands and events on, async or blocking.

mod imp;

pub use imp::{Receiver, Refused, Sender, bounded};
