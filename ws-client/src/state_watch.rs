//! An awaitable view of the lifecycle state, for a UI or a supervisor of clients.

use std::fmt;
use std::future::poll_fn;
use std::task::Poll;

use ws_core::State;

use crate::status::SharedStatus;

/// Watches a client's lifecycle state, like a `tokio::sync::watch` receiver: [`changed`]
/// wakes on the next change and returns the state as it is then. It coalesces: a watcher
/// that was away sees the latest state, not every step in between (the event stream has
/// every step, losslessly). Cheap to clone; each clone tracks what it has seen on its own.
///
/// [`changed`]: Self::changed
#[derive(Clone)]
pub struct StateWatch {
    status: SharedStatus,
    /// The state version this watcher has seen.
    seen: u64,
}

impl StateWatch {
    pub(crate) fn new(status: SharedStatus) -> Self {
        let seen = status.lock().state_version;
        StateWatch { status, seen }
    }

    /// The state now, marking it as seen.
    pub fn get(&mut self) -> State {
        let published = self.status.lock();
        self.seen = published.state_version;
        published.status.state
    }

    /// Waits for a state this watcher has not seen and returns it; `None` once the client has
    /// finished and its final state was seen.
    pub async fn changed(&mut self) -> Option<State> {
        poll_fn(|cx| {
            let mut published = self.status.lock();
            if published.state_version != self.seen {
                self.seen = published.state_version;
                return Poll::Ready(Some(published.status.state));
            }
            if published.finished {
                return Poll::Ready(None);
            }
            if !published.watchers.iter().any(|w| w.will_wake(cx.waker())) {
                published.watchers.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }
}

impl fmt::Debug for StateWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateWatch")
            .field("state", &self.status.get().state)
            .finish_non_exhaustive()
    }
}
