//! Recovery timing: how fast each adapter notices a dead peer, and how punctually it comes
//! back once the server does.
//!
//! The client talks to a ws-testkit [`TestServer`] through a [`FaultProxy`]. Each repetition:
//!
//! 1. wait for a heartbeat round trip (the `Rtt` event: the last sign of life);
//! 2. freeze the proxy (a half-open link: nothing passes, nothing closes) and stop the server;
//! 3. **detection** = `Disconnected` − that last sign of life; the supervisor's bound is
//!    `ping_interval + pong_timeout` (ping due one interval after the last liveness, peer dead
//!    one timeout after the ping);
//! 4. unfreeze: reconnect attempts now fail (nothing listens behind the proxy); after a
//!    failed attempt's `Reconnecting { delay }`, restart the server;
//! 5. **reconnect lateness** = `Open` − (that `Reconnecting` + `delay`): how late after its
//!    backoff the adapter opened; also reported: `Open` − the server's return.
//!
//! The backoff is fixed (multiplier 1, no jitter) so that every delay is known. The adapter
//! runs on a thread of its own and stamps each event as it arrives, so the testkit's
//! blocking calls on this thread never hold the adapter's timers back.

use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use ws_core::{CloseCode, Config, Jitter};
use ws_testkit::{FaultProxy, ProxyMode, TestServer};
use ws_tokio::{ClientOptions, Event};

use crate::clients::ClientKind;
use crate::error::{Error, Result};
use crate::stats::Spread;

/// How the recovery scenarios are run.
#[derive(Clone, Debug, Serialize)]
pub struct RecoveryPlan {
    /// The adapters.
    pub clients: Vec<ClientKind>,
    /// Scenarios per adapter.
    pub repetitions: usize,
    /// Heartbeat interval.
    pub ping_interval: Duration,
    /// Pong timeout.
    pub pong_timeout: Duration,
    /// The fixed reconnect delay.
    pub backoff: Duration,
}

/// One adapter's recovery timing, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct RecoveryResult {
    /// The adapter.
    pub client: ClientKind,
    /// `ping_interval + pong_timeout`.
    pub detection_bound_ms: f64,
    /// Last sign of life → `Disconnected`.
    pub detection_ms: Spread,
    /// Detection minus its bound (goal: ≤ 5 ms).
    pub detection_excess_ms: Spread,
    /// The fixed backoff.
    pub backoff_ms: f64,
    /// `Open` minus (`Reconnecting` + its delay) (goal: ≤ 5 ms).
    pub reconnect_lateness_ms: Spread,
    /// The server's return → `Open`.
    pub reconnect_after_return_ms: Spread,
}

/// An event and when the adapter's thread received it.
type Stamped = (Instant, Event);

/// A running adapter: its events, stamped, and a way to close it.
struct Running {
    events: Receiver<Stamped>,
    close: Box<dyn FnOnce() + Send>,
    thread: JoinHandle<()>,
}

const PATIENCE: Duration = Duration::from_secs(10);

/// The next event on `events` matching `wanted`, skipping others; errors on a deadline.
fn wait_for(
    events: &Receiver<Stamped>,
    what: &str,
    wanted: impl Fn(&Event) -> bool,
) -> Result<Stamped> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (at, event) = events
            .recv_timeout(left)
            .map_err(|_| Error::new(format!("no {what} within {PATIENCE:?}")))?;
        if wanted(&event) {
            return Ok((at, event));
        }
    }
}

impl Running {
    fn wait_for(&self, what: &str, wanted: impl Fn(&Event) -> bool) -> Result<Stamped> {
        wait_for(&self.events, what, wanted)
    }

    /// Closes the client, waits for its last event and joins its thread.
    fn stop(self) -> Result<()> {
        let Running {
            events,
            close,
            thread,
        } = self;
        close();
        let _ = wait_for(&events, "Closed", |e| matches!(e, Event::Closed));
        drop(events);
        thread
            .join()
            .map_err(|_| Error::new("the adapter thread panicked"))
    }
}

/// Starts `client` with `options` on a thread of its own.
fn start(client: ClientKind, options: ClientOptions) -> Result<Running> {
    let (sender, events) = mpsc::channel::<Stamped>();
    let (closer_tx, closer_rx) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
    let thread = std::thread::Builder::new()
        .name("bench-recovery".to_owned())
        .spawn(move || match client {
            ClientKind::WsTokio => {
                let Ok(runtime) = crate::clients::tokio_runtime() else {
                    return;
                };
                runtime.block_on(async move {
                    let (handle, mut stream) = ws_tokio::connect(options);
                    let _ = closer_tx.send(Box::new(move || {
                        let _ = smol::block_on(handle.close(CloseCode::NORMAL, "done"));
                    }));
                    while let Some(event) = stream.next().await {
                        let _ = sender.send((Instant::now(), event));
                    }
                });
            }
            ClientKind::WsAsyncStd => {
                let executor = smol::LocalExecutor::new();
                smol::block_on(executor.run(async {
                    let (handle, mut stream, driver) = ws_async_std::connect_with_driver(options);
                    executor.spawn(driver).detach();
                    let _ = closer_tx.send(Box::new(move || {
                        let _ = smol::block_on(handle.close(CloseCode::NORMAL, "done"));
                    }));
                    while let Some(event) = stream.next().await {
                        let _ = sender.send((Instant::now(), event));
                    }
                }));
            }
            ClientKind::WsBlocking => {
                let (handle, stream) = ws_blocking::connect(options);
                let _ = closer_tx.send(Box::new(move || {
                    let _ = handle.close(CloseCode::NORMAL, "done");
                }));
                for event in stream {
                    let _ = sender.send((Instant::now(), event));
                }
            }
            _ => {}
        })?;
    let close = closer_rx
        .recv_timeout(PATIENCE)
        .map_err(|_| Error::new(format!("{client} is not an adapter, or did not start")))?;
    Ok(Running {
        events,
        close,
        thread,
    })
}

/// One repetition's timings, in milliseconds.
struct Timings {
    detection: f64,
    lateness: f64,
    after_return: f64,
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// `later − earlier` in milliseconds, negative if `later` came first.
fn signed_millis(later: Instant, earlier: Instant) -> f64 {
    if later >= earlier {
        millis(later - earlier)
    } else {
        -millis(earlier - later)
    }
}

fn scenario(client: ClientKind, plan: &RecoveryPlan) -> Result<Timings> {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let config = Config::builder()
        .ping_interval(plan.ping_interval)
        .pong_timeout(plan.pong_timeout)
        .initial_delay(plan.backoff)
        .max_delay(plan.backoff)
        .multiplier(1.0)
        .jitter(Jitter::None)
        .build()?;
    let options = ClientOptions::builder(proxy.url())
        .config(config)
        .seed(7)
        .build()?;
    let running = start(client, options)?;
    running.wait_for("Open", |e| matches!(e, Event::Open { .. }))?;
    let (alive, _) = running.wait_for("Rtt", |e| matches!(e, Event::Rtt(_)))?;
    proxy.set_mode(ProxyMode::Freeze);
    server.stop();
    let (dead, _) =
        running.wait_for("Disconnected", |e| matches!(e, Event::Disconnected { .. }))?;
    proxy.set_mode(ProxyMode::Pass);
    // The first reconnect attempt fails (nothing listens); wait for the one scheduled after it.
    let (scheduled, delay) = loop {
        let (at, event) =
            running.wait_for("Reconnecting", |e| matches!(e, Event::Reconnecting { .. }))?;
        if let Event::Reconnecting { attempt, delay } = event
            && attempt >= 2
        {
            break (at, delay);
        }
    };
    server.restart();
    let returned = Instant::now();
    let (opened, _) = running.wait_for("Open", |e| matches!(e, Event::Open { .. }))?;
    running.stop()?;
    Ok(Timings {
        detection: millis(dead - alive),
        lateness: signed_millis(opened, scheduled + delay),
        after_return: signed_millis(opened, returned),
    })
}

/// Runs the recovery scenarios of `plan`; `progress` hears one line per adapter.
pub fn run(plan: &RecoveryPlan, progress: &mut dyn FnMut(&str)) -> Result<Vec<RecoveryResult>> {
    let bound = millis(plan.ping_interval + plan.pong_timeout);
    let mut results = Vec::new();
    for &client in &plan.clients {
        let mut timings = Vec::with_capacity(plan.repetitions);
        for _ in 0..plan.repetitions {
            timings.push(
                scenario(client, plan)
                    .map_err(|error| error.context(format_args!("{client} recovery")))?,
            );
        }
        let spread =
            |f: fn(&Timings) -> f64| Spread::of(&timings.iter().map(f).collect::<Vec<_>>());
        let result = RecoveryResult {
            client,
            detection_bound_ms: bound,
            detection_ms: spread(|t| t.detection),
            detection_excess_ms: spread(|t| t.detection).shifted(-bound),
            backoff_ms: millis(plan.backoff),
            reconnect_lateness_ms: spread(|t| t.lateness),
            reconnect_after_return_ms: spread(|t| t.after_return),
        };
        progress(&format!(
            "recovery {:<22} detection {:.1} ms (bound {bound:.0} ms), reconnect {:+.1} ms after its backoff",
            client.label(),
            result.detection_ms.median,
            result.reconnect_lateness_ms.median
        ));
        results.push(result);
    }
    Ok(results)
}
