//! The thread-per-connection harness of the blocking clients.
//!
//! Each connection gets an application thread that opens it, waits at a barrier until every
//! connection is open and the meter has taken its readings, converses until the window
//! closes, hands its conversation back, waits until every thread has finished (so closing is
//! not measured), then closes.

use std::sync::mpsc;
use std::sync::{Barrier, OnceLock};
use std::thread;
use std::time::Instant;

use super::{Run, Sample};
use crate::error::{Error, Result};
use crate::workload::Conversation;

/// One open connection of a blocking client.
pub(crate) trait Body: Send {
    /// Runs the (started) conversation to its end.
    fn converse(&mut self, conversation: &mut Conversation) -> Result<()>;
    /// Closes the connection gracefully.
    fn close(&mut self) -> Result<()>;
}

/// Runs one thread per connection of `run.case`; `open` opens a connection for a
/// conversation (on that connection's thread).
pub(crate) fn run_threads<F>(run: &Run<'_>, open: F) -> Result<Sample>
where
    F: Fn(&Conversation) -> Result<Box<dyn Body>> + Sync,
{
    let connections = run.case.connections;
    let go = Barrier::new(connections + 1);
    let done = Barrier::new(connections + 1);
    let deadline = OnceLock::<Instant>::new();
    let (ready_tx, ready_rx) = mpsc::channel::<Result<()>>();
    let (result_tx, result_rx) = mpsc::channel::<Result<Conversation>>();
    thread::scope(|scope| {
        let mut threads = Vec::with_capacity(connections);
        for mut conversation in Conversation::all(run.case) {
            let (ready, results) = (ready_tx.clone(), result_tx.clone());
            let (go, done, deadline, open) = (&go, &done, &deadline, &open);
            threads.push(scope.spawn(move || -> Result<()> {
                let body = open(&conversation);
                let _ = ready.send(body.as_ref().map(|_| ()).map_err(Clone::clone));
                go.wait();
                let mut body = match (body, deadline.get()) {
                    (Ok(mut body), Some(&deadline)) => {
                        conversation.start(deadline);
                        let outcome = body.converse(&mut conversation);
                        let _ = results.send(outcome.map(|()| conversation));
                        Some(body)
                    }
                    (body, _) => {
                        let _ = results.send(Err(Error::new("not started")));
                        body.ok()
                    }
                };
                done.wait();
                body.as_mut().map_or(Ok(()), |body| body.close())
            }));
        }
        drop((ready_tx, result_tx));
        let mut failure = None;
        for _ in 0..connections {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    failure.get_or_insert(error.context("opening"));
                }
                Err(_) => {
                    failure.get_or_insert(Error::new("a connection thread died"));
                }
            }
        }
        let mark = run.meter.mark();
        if failure.is_none() {
            let _ = deadline.set(mark.at + run.window);
        }
        go.wait();
        let mut finished = Vec::with_capacity(connections);
        for _ in 0..connections {
            match result_rx.recv() {
                Ok(Ok(conversation)) => finished.push(conversation),
                Ok(Err(error)) => {
                    failure.get_or_insert(error);
                }
                Err(_) => {
                    failure.get_or_insert(Error::new("a connection thread died"));
                }
            }
        }
        let usage = run.meter.since(&mark);
        done.wait();
        for thread in threads {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    failure.get_or_insert(error.context("closing"));
                }
                Err(_) => {
                    failure.get_or_insert(Error::new("a connection thread panicked"));
                }
            }
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(Sample::collect(usage, &finished)),
        }
    })
}
