//! A supervisor with the observer attached: every call is performed, drained, recorded and
//! checked in one go, so no caller can forget a step of the driver loop.

use ws_core::{Config, Instant, Supervisor};

use crate::observation::{Call, Observation};
use crate::observer::Observer;
use crate::violation::Violation;

/// A [`Supervisor`] whose every call is checked by an [`Observer`].
#[derive(Debug)]
pub struct ObservedSupervisor {
    supervisor: Supervisor,
    observer: Observer,
    trace: Vec<Observation>,
    recording: bool,
}

impl ObservedSupervisor {
    /// A supervisor built from `config` and `seed`, checked against every invariant, with
    /// its trace recorded.
    pub fn new(config: Config, seed: u64) -> Self {
        let observer = Observer::new(config.clone());
        ObservedSupervisor::with_observer(config, seed, observer)
    }

    /// The same with a given observer (e.g. one restricted with [`Observer::only`]).
    pub fn with_observer(config: Config, seed: u64, observer: Observer) -> Self {
        ObservedSupervisor {
            supervisor: Supervisor::new(config, seed),
            observer,
            trace: Vec::new(),
            recording: true,
        }
    }

    /// Stops recording the trace (long simulations keep only the latest observation; replay
    /// the same seed with recording on to get the trace of a failure).
    #[must_use]
    pub fn without_trace(mut self) -> Self {
        self.recording = false;
        self
    }

    /// Performs `call` at `now`, drains everything, and checks it.
    pub fn call(&mut self, now: Instant, call: Call) -> Result<&Observation, Violation> {
        let observation = Observation::perform(&mut self.supervisor, now, call);
        let verdict = self.observer.observe(&observation);
        if !self.recording {
            self.trace.clear();
        }
        self.trace.push(observation);
        verdict?;
        Ok(self.trace.last().expect("just pushed"))
    }

    /// The supervisor (for `poll_timeout()`, `state()`, `stats()`).
    pub fn supervisor(&self) -> &Supervisor {
        &self.supervisor
    }

    /// The observer.
    pub fn observer(&self) -> &Observer {
        &self.observer
    }

    /// Every observation so far (only the latest when not recording).
    pub fn trace(&self) -> &[Observation] {
        &self.trace
    }

    /// The recorded trace.
    pub fn into_trace(self) -> Vec<Observation> {
        self.trace
    }
}
