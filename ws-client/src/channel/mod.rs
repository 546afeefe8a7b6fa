//! The bounded channel every adapter carries commands and events on, async or blocking.
//!
//! Written here rather than taken from a crate because of what a client costs when it is one
//! of ten thousand idle ones, and per message when it is busy:
//!
//! - nothing is allocated up front: the queue is a `VecDeque` that grows only as far as it is
//!   used and then reuses its storage (tokio's `mpsc` allocates a block of 32 slots per
//!   channel, `async-channel` and std's `sync_channel` all `capacity` slots, ~14 KiB for 256
//!   commands);
//! - nothing is allocated per message, nor per wait (the futures `mpsc` allocates a node per
//!   message, `async-channel` a listener per wait).
//!
//! One mutex guards the queue and the wakers; it is held for a push or a pop, never across a
//! wait, and no waker is woken (nor dropped) while it is held: each operation takes out the
//! one or two wakers it has to wake into fixed slots and wakes them after unlocking; closing,
//! which wakes every waiter, does so a few at a time with the lock released in between.
//!
//! Each value taken out wakes the sender that has waited longest for room; a woken sender
//! that then gives up without using the room passes it on to the next. Sends from one task
//! stay in order, sends from concurrent tasks have no order anyway.
//!
//! Async callers wait through [`Context`](std::task::Context)s; blocking callers poll the same
//! futures with [`park`], whose waker unparks their thread (one per thread, made on its first
//! wait, so waiting allocates nothing after that).
//!
//! The concurrency is model-checked with loom: `model.rs` builds the same `imp.rs` on loom's
//! primitives and explores the interleavings of senders, receiver, closing and dropping.

mod imp;
#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub(crate) use imp::{Receiver, Refused, Sender, bounded, park, park_until};

/// The primitives `imp.rs` is written against: std's (loom's in `model.rs`).
mod sync {
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard};
    pub(crate) use std::thread_local;

    pub(crate) mod thread {
        pub(crate) use std::thread::{Thread, current, park, park_timeout};
    }
}
