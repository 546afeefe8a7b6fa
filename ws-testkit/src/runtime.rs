//! A private tokio runtime that lives on background threads.
//!
//! The kit's public API is synchronous so that tests of every adapter (tokio, smol, async-std,
//! blocking std) can use it. All I/O therefore runs on a runtime the kit owns. Two rules keep that
//! usable from *any* calling thread, including a thread that is already inside some other tokio
//! runtime:
//!
//! * results come back through `std::sync::mpsc`, never `Runtime::block_on` (which panics when
//!   called inside a runtime context);
//! * the `Runtime` value itself is owned and finally dropped by a dedicated std thread, because
//!   dropping a runtime inside an async context panics too. Dropping [`Background`] joins that
//!   thread, so no worker thread outlives the handle.

use std::future::Future;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

/// Owner of the kit's private multi-thread runtime.
pub(crate) struct Background {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Starts a two-worker runtime whose threads are named after `name`.
    pub(crate) fn new(name: &str) -> Self {
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(format!("ws-testkit-{name}"))
            .enable_all()
            .build()
            .expect("ws-testkit: cannot build its tokio runtime");
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("ws-testkit-{name}-owner"))
            .spawn(move || {
                // Park this thread until the owner is dropped; the workers run the tasks.
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                // Dropping here (outside any async context) waits for the workers to exit.
                drop(runtime);
            })
            .expect("ws-testkit: cannot spawn the runtime owner thread");
        Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Spawns a task on the private runtime; callable from any thread.
    pub(crate) fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `future` on the private runtime and blocks the calling thread until it finishes.
    ///
    /// Safe to call from inside another async runtime: it only blocks on a std channel.
    pub(crate) fn call<F>(&self, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv()
            .expect("ws-testkit: background task panicked or runtime stopped")
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
