//! One fleet, measured: open the connections in batches, let them settle, read heap and
//! resident memory, then read CPU over a window of heartbeats.
//!
//! Every container the measurement itself needs is allocated before the first reading, and
//! events are drained only outside the CPU window, so the figures are the connections'.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use ws_core::Config;
use ws_tokio::{ClientOptions, Event};

use super::limits::{connections_for_descriptors, connections_for_threads, descriptor_hard_limit};
use super::{BATCH_PATIENCE, FleetResult, Spec};
use crate::clients::{
    Buffers, ClientKind, Family, open_smol_adapter, open_smol_raw, open_tokio_adapter,
    open_tokio_raw, tokio_runtime, wait_blocking_open, wait_smol_open, wait_tokio_open,
};
use crate::error::{Error, Result};
use crate::measure::{heap, process_cpu, rss_bytes};

/// Heap and resident memory at one moment.
#[derive(Clone, Copy, Debug)]
struct Snapshot {
    heap: i64,
    rss: u64,
}

impl Snapshot {
    fn take() -> Snapshot {
        Snapshot {
            rss: rss_bytes(),
            heap: heap().live_bytes,
        }
    }
}

/// Events seen while draining.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    heartbeats: u64,
    disconnects: u64,
}

impl Tally {
    fn count(&mut self, event: &Event) {
        match event {
            Event::Rtt(_) => self.heartbeats += 1,
            Event::Disconnected { .. } => self.disconnects += 1,
            _ => {}
        }
    }
}

/// What a family's fleet function reports.
struct Measured {
    before: Snapshot,
    after: Snapshot,
    open: Duration,
    cpu: Duration,
    window: Duration,
    tally: Tally,
}

/// Measures the fleet of `spec`, shrunk to what the machine's limits allow.
pub(super) fn measure(spec: &Spec) -> Result<FleetResult> {
    let requested = spec.plan.connections;
    let (descriptors, threads) = match spec.client.family() {
        // A socket, the I/O thread's poller and its waker; the I/O thread.
        Family::Blocking => (3, 1),
        Family::Tokio | Family::Smol => (1, 0),
    };
    let mut connections = requested;
    let mut note = None;
    let by_descriptors = connections_for_descriptors(descriptors);
    if connections > by_descriptors {
        connections = by_descriptors;
        note = Some(format!(
            "{descriptors} descriptors per connection and a hard limit of {} per process",
            descriptor_hard_limit()
        ));
    }
    if threads > 0 {
        let by_threads = connections_for_threads(threads);
        if connections > by_threads {
            connections = by_threads;
            note = Some(format!(
                "{threads} threads per connection, and the machine's task-id and memory-map \
                 limits (pid_max, vm.max_map_count)"
            ));
        }
    }
    let measured = match spec.client.family() {
        Family::Tokio => tokio_fleet(spec, connections),
        Family::Smol => smol_fleet(spec, connections),
        Family::Blocking => blocking_fleet(spec, connections),
    }
    .map_err(|error| error.context(format_args!("{} fleet", spec.client)))?;
    let n = connections.max(1) as f64;
    let cpu_us = measured.cpu.as_nanos() as f64 / 1e3;
    Ok(FleetResult {
        client: spec.client,
        requested,
        connections,
        heartbeats_enabled: spec.client.is_adapter(),
        heap_bytes_per_connection: (measured.after.heap - measured.before.heap) as f64 / n,
        rss_bytes_per_connection: measured.after.rss.saturating_sub(measured.before.rss) as f64 / n,
        cpu_ms_per_second: cpu_us / 1e3 / measured.window.as_secs_f64().max(1e-9),
        heartbeats: measured.tally.heartbeats,
        cpu_us_per_heartbeat: cpu_us / measured.tally.heartbeats.max(1) as f64,
        disconnects: measured.tally.disconnects,
        open_seconds: measured.open.as_secs_f64(),
        note,
    })
}

/// The adapters' options: heartbeats as the plan says, everything else default.
fn heartbeat_options(spec: &Spec) -> Result<ClientOptions> {
    let config = Config::builder()
        .ping_interval(spec.plan.ping_interval)
        .pong_timeout(spec.plan.pong_timeout)
        .build()?;
    let mut builder = ClientOptions::builder(&spec.target().url)
        .config(config)
        .seed(1);
    if let Some(capacity) = spec.plan.channel_capacity {
        builder = builder.event_capacity(capacity).command_capacity(capacity);
    }
    Ok(builder.build()?)
}

fn raw_buffers(client: ClientKind) -> Result<Buffers> {
    match client {
        ClientKind::TokioTungsteniteDefault | ClientKind::AsyncTungsteniteDefault => {
            Ok(Buffers::Default)
        }
        ClientKind::TokioTungsteniteTuned | ClientKind::AsyncTungsteniteTuned => Ok(Buffers::Tuned),
        other => Err(Error::new(format!("no idle fleet for {other}"))),
    }
}

/// Batches of at most `batch` out of `total`: `(start, len)`.
fn batches(total: usize, batch: usize) -> impl Iterator<Item = (usize, usize)> {
    let batch = batch.max(1);
    (0..total)
        .step_by(batch)
        .map(move |start| (start, batch.min(total - start)))
}

/// Counts raw connections that opened (or failed), shared with their tasks.
#[derive(Clone, Default)]
struct Opened {
    ok: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
}

impl Opened {
    fn settled(&self) -> usize {
        self.ok.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed)
    }

    fn check(&self) -> Result<()> {
        match self.failed.load(Ordering::Relaxed) {
            0 => Ok(()),
            failed => Err(Error::new(format!("{failed} connections failed to open"))),
        }
    }
}

fn tokio_fleet(spec: &Spec, connections: usize) -> Result<Measured> {
    let plan = &spec.plan;
    let target = spec.target();
    tokio_runtime()?.block_on(async {
        let options = heartbeat_options(spec)?;
        let mut clients = Vec::with_capacity(connections);
        let mut events = Vec::with_capacity(connections);
        let opened = Opened::default();
        let before = Snapshot::take();
        let start = Instant::now();
        for (first, len) in batches(connections, plan.batch) {
            if spec.client.is_adapter() {
                for _ in 0..len {
                    let (client, stream) = open_tokio_adapter(options.clone());
                    clients.push(client);
                    events.push(stream);
                }
                for stream in &mut events[first..] {
                    wait_tokio_open(stream).await?;
                }
            } else {
                let buffers = raw_buffers(spec.client)?;
                for _ in 0..len {
                    let (target, opened) = (target.clone(), opened.clone());
                    tokio::spawn(async move {
                        match open_tokio_raw(&target, buffers).await {
                            Ok(mut socket) => {
                                opened.ok.fetch_add(1, Ordering::Relaxed);
                                while let Some(Ok(_)) = socket.next().await {}
                            }
                            Err(_) => {
                                opened.failed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    });
                }
                let waited = Instant::now();
                while opened.settled() < first + len && waited.elapsed() < BATCH_PATIENCE {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                opened.check()?;
            }
        }
        let open = start.elapsed();
        let mut tally = Tally::default();
        tokio::time::sleep(plan.settle).await;
        drain_streams(&mut events, &mut tally);
        let after = Snapshot::take();
        let (cpu, window) = {
            let (cpu, at) = (process_cpu(), Instant::now());
            tokio::time::sleep(plan.window).await;
            (process_cpu().saturating_sub(cpu), at.elapsed())
        };
        let mut tally = Tally {
            disconnects: tally.disconnects,
            ..Tally::default()
        };
        drain_streams(&mut events, &mut tally);
        drop((clients, events));
        Ok(Measured {
            before,
            after,
            open,
            cpu,
            window,
            tally,
        })
    })
}

fn smol_fleet(spec: &Spec, connections: usize) -> Result<Measured> {
    let plan = &spec.plan;
    let target = spec.target();
    let executor = smol::LocalExecutor::new();
    smol::block_on(executor.run(async {
        let options = heartbeat_options(spec)?;
        let mut clients = Vec::with_capacity(connections);
        let mut events = Vec::with_capacity(connections);
        let opened = Opened::default();
        let before = Snapshot::take();
        let start = Instant::now();
        for (first, len) in batches(connections, plan.batch) {
            if spec.client.is_adapter() {
                for _ in 0..len {
                    let (client, stream, driver) = open_smol_adapter(options.clone());
                    executor.spawn(driver).detach();
                    clients.push(client);
                    events.push(stream);
                }
                for stream in &mut events[first..] {
                    wait_smol_open(stream).await?;
                }
            } else {
                let buffers = raw_buffers(spec.client)?;
                for _ in 0..len {
                    let (target, opened) = (target.clone(), opened.clone());
                    executor
                        .spawn(async move {
                            match open_smol_raw(&target, buffers).await {
                                Ok(mut socket) => {
                                    opened.ok.fetch_add(1, Ordering::Relaxed);
                                    while let Some(Ok(_)) = socket.next().await {}
                                }
                                Err(_) => {
                                    opened.failed.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        })
                        .detach();
                }
                let waited = Instant::now();
                while opened.settled() < first + len && waited.elapsed() < BATCH_PATIENCE {
                    smol::Timer::after(Duration::from_millis(1)).await;
                }
                opened.check()?;
            }
        }
        let open = start.elapsed();
        let mut tally = Tally::default();
        smol::Timer::after(plan.settle).await;
        drain_streams(&mut events, &mut tally);
        let after = Snapshot::take();
        let (cpu, window) = {
            let (cpu, at) = (process_cpu(), Instant::now());
            smol::Timer::after(plan.window).await;
            (process_cpu().saturating_sub(cpu), at.elapsed())
        };
        let mut tally = Tally {
            disconnects: tally.disconnects,
            ..Tally::default()
        };
        drain_streams(&mut events, &mut tally);
        drop((clients, events));
        Ok(Measured {
            before,
            after,
            open,
            cpu,
            window,
            tally,
        })
    }))
}

fn blocking_fleet(spec: &Spec, connections: usize) -> Result<Measured> {
    let plan = &spec.plan;
    if !spec.client.is_adapter() {
        return Err(Error::new(format!("no idle fleet for {}", spec.client)));
    }
    let options = heartbeat_options(spec)?;
    let mut clients = Vec::with_capacity(connections);
    let mut events = Vec::with_capacity(connections);
    let before = Snapshot::take();
    let start = Instant::now();
    for (first, len) in batches(connections, plan.batch) {
        for _ in 0..len {
            let (client, stream) = ws_blocking::connect(options.clone());
            clients.push(client);
            events.push(stream);
        }
        for stream in &mut events[first..] {
            wait_blocking_open(stream)?;
        }
    }
    let open = start.elapsed();
    let drain = |events: &mut [ws_blocking::Events], tally: &mut Tally| {
        for stream in events {
            while let Ok(event) = stream.try_recv() {
                tally.count(&event);
            }
        }
    };
    let mut tally = Tally::default();
    std::thread::sleep(plan.settle);
    drain(&mut events, &mut tally);
    let after = Snapshot::take();
    let (cpu, at) = (process_cpu(), Instant::now());
    std::thread::sleep(plan.window);
    let (cpu, window) = (process_cpu().saturating_sub(cpu), at.elapsed());
    let mut tally = Tally {
        disconnects: tally.disconnects,
        ..Tally::default()
    };
    drain(&mut events, &mut tally);
    // Close them all first, so the closing handshakes overlap; each drop then joins threads
    // that are already finishing.
    for client in &clients {
        let _ = client.close(ws_core::CloseCode::NORMAL, "done");
    }
    drop((clients, events));
    Ok(Measured {
        before,
        after,
        open,
        cpu,
        window,
        tally,
    })
}

/// Takes every event that is ready, without waiting.
fn drain_streams<S>(streams: &mut [S], tally: &mut Tally)
where
    S: futures_util::Stream<Item = Event> + Unpin,
{
    for stream in streams {
        while let Some(Some(event)) = stream.next().now_or_never() {
            tally.count(&event);
        }
    }
}
