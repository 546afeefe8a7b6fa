//! One property (at least) per invariant of DESIGN §3, each over 1,000 random valid configs,
//! seeds and scripts or peer behaviours, with the [`Observer`](ws_sim::Observer) on and, where
//! an independent check is cheap, a second check that does not trust the observer.

use core::time::Duration;

use proptest::prelude::*;
use ws_core::{
    Action, CloseCode, ConnectFailure, Disconnect, Event, Heartbeat, Input, Instant, Liveness,
    Message, TransportError,
};
use ws_sim::strategy::{self, Mix, POLICIES, config, config_with, script};
use ws_sim::{
    Call, FrameKind, Harness, Invariant, Observation, PongPayload, Returned, Step, Target,
    Violation, check_determinism, delay_bounds, raise_to_retry_after, within,
};

/// Cases per property; `PROPTEST_CASES` may raise it for a deeper search.
const CASES: u32 = 1_000;

fn settings() -> ProptestConfig {
    ProptestConfig {
        cases: ProptestConfig::default().cases.max(CASES),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Heartbeats that detect a dead peer on their own: client pings of every kind, or the
/// server-driven idle timeout.
fn detecting_heartbeat() -> BoxedStrategy<Heartbeat> {
    prop_oneof![
        Just(Heartbeat::Protocol),
        Just(strategy::text_heartbeat()),
        Just(strategy::json_heartbeat()),
        Just(Heartbeat::ServerDriven),
    ]
    .boxed()
}

fn runs(harness: &mut Harness, steps: &[Step]) -> Result<(), TestCaseError> {
    for step in steps {
        harness
            .apply(step)
            .map_err(|violation| TestCaseError::fail(violation.to_string()))?;
    }
    Ok(())
}

fn checked<T>(result: Result<T, Violation>) -> Result<T, TestCaseError> {
    result.map_err(|violation| TestCaseError::fail(violation.to_string()))
}

/// `fraction` (per mille) of `duration`: strictly less than it.
fn share(duration: Duration, per_mille: u64) -> Duration {
    duration * u32::try_from(per_mille).unwrap_or(999) / 1_000
}

fn is_ping(action: &Action) -> bool {
    matches!(action, Action::Ping(_) | Action::Heartbeat(_))
}

/// Ticks on time at every deadline strictly before `until`, then moves the clock to `until`
/// (an input arriving at the same instant as a deadline is fed first, as a driver does).
fn run_until(harness: &mut Harness, until: Instant) -> Result<Vec<Observation>, TestCaseError> {
    let mut seen = Vec::new();
    while let Some(at) = harness.observed().supervisor().poll_timeout() {
        if at >= until {
            break;
        }
        harness.set_now(at);
        seen.push(checked(harness.call(Call::Tick))?.clone());
    }
    harness.set_now(until);
    Ok(seen)
}

/// Ticks on time until a call's outputs satisfy `found` (at most `limit` ticks).
fn tick_until(
    harness: &mut Harness,
    limit: usize,
    found: impl Fn(&Observation) -> bool,
) -> Result<Vec<Observation>, TestCaseError> {
    let mut seen = Vec::new();
    for _ in 0..limit {
        let Some(at) = harness.observed().supervisor().poll_timeout() else {
            break;
        };
        harness.set_now(harness.now().max(at));
        let observation = checked(harness.call(Call::Tick))?.clone();
        let done = found(&observation);
        seen.push(observation);
        if done {
            return Ok(seen);
        }
    }
    Err(TestCaseError::fail(format!(
        "nothing expected happened in {limit} ticks: {seen:#?}"
    )))
}

fn frame(harness: &mut Harness, kind: FrameKind) -> Result<Observation, TestCaseError> {
    harness
        .apply(&Step::Frame(Target::Current, kind))
        .map_err(|violation| TestCaseError::fail(violation.to_string()))?;
    Ok(harness
        .transcript()
        .last()
        .expect("a frame is a call")
        .clone())
}

fn reply_kind(heartbeat: &Heartbeat) -> FrameKind {
    match heartbeat {
        Heartbeat::Application { .. } => FrameKind::AppPong,
        _ => FrameKind::Pong(PongPayload::Latest),
    }
}

fn open_at(harness: &mut Harness, at: Instant) -> Result<(), TestCaseError> {
    checked(harness.call(Call::Connect))?;
    harness.set_now(at);
    runs(harness, &[Step::Opened(Target::Current)])?;
    prop_assert!(harness.observed().observer().is_open(), "did not open");
    Ok(())
}

/// Runs the script step by step and returns, for each step, whether it made a call and that
/// call's observation.
fn run_stepwise(
    config: &ws_core::Config,
    seed: u64,
    steps: &[Step],
    invariants: &[Invariant],
) -> Result<Vec<Option<Observation>>, TestCaseError> {
    let mut harness = Harness::checking(config.clone(), seed, invariants);
    let mut per_step = Vec::with_capacity(steps.len());
    for step in steps {
        let before = harness.observed().observer().calls();
        checked(harness.apply(step))?;
        let made_call = harness.observed().observer().calls() > before;
        per_step.push(
            made_call
                .then(|| harness.transcript().last().cloned())
                .flatten(),
        );
    }
    Ok(per_step)
}

fn without_rewinds(steps: Vec<Step>) -> Vec<Step> {
    steps
        .into_iter()
        .filter(|step| !matches!(step, Step::Rewind(_)))
        .collect()
}

proptest! {
    #![proptest_config(settings())]

    /// Invariant 1, over scripts full of connects, failures, losses, reconnects and network
    /// changes; cross-checked by a plain count of live transports.
    #[test]
    fn one_transport_at_a_time(
        config in config(),
        seed in any::<u64>(),
        steps in script(Mix::Transports, 60),
    ) {
        let mut harness = Harness::checking(config, seed, &[Invariant::OneTransport]);
        runs(&mut harness, &steps)?;
        let mut live: Option<ws_core::ConnectionId> = None;
        let (mut opened, mut closing) = (false, false);
        for observation in harness.transcript() {
            if let Call::Input(input) = &observation.call
                && input.connection().is_some()
                && input.connection() == live
            {
                match input {
                    Input::Opened { .. } => opened = true,
                    Input::Error { .. } | Input::Closed { .. } => live = None,
                    // Nonsense on an open transport (ignored), final before it opened or once
                    // our Close is out.
                    Input::ConnectFailed { .. } if !opened || closing => live = None,
                    _ => {}
                }
            }
            for action in &observation.actions {
                match action {
                    Action::Abort => live = None,
                    Action::Close { .. } => closing = true,
                    Action::Connect { connection, .. } => {
                        prop_assert_eq!(live, None, "Connect {} while {:?} lives", connection, live);
                        live = Some(*connection);
                        (opened, closing) = (false, false);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Invariant 2, exact: a peer answers some pings (after random delays) and chatters, then
    /// falls silent; with a punctual driver, the one ping goes out exactly `ping_interval`
    /// after the last sign of life and the drop comes exactly `pong_timeout` after it
    /// (`idle_timeout` after it when server-driven).
    #[test]
    fn silent_peer_is_dropped_exactly_at_the_bound(
        config in config_with(detecting_heartbeat(), &POLICIES),
        seed in any::<u64>(),
        latency in 0..1_000u64,
        rounds in prop::collection::vec((0..1_000u64, prop::option::of(0..1_000u64)), 0..6),
    ) {
        let mut harness = Harness::checking(
            config.clone(),
            seed,
            &[Invariant::DeadPeerBound, Invariant::NoFalsePositive, Invariant::PollTimeout],
        );
        let opened_at = Instant::ZERO + share(config.connect_timeout(), latency);
        open_at(&mut harness, opened_at)?;
        let server_driven = matches!(config.heartbeat(), Heartbeat::ServerDriven);
        let chatter_counts = config.liveness() == Liveness::AnyFrame || server_driven;
        let mut last_alive = opened_at;
        for (reply, chatter) in rounds {
            if let Some(chatter) = chatter {
                let at = last_alive + share(config.ping_interval().min(config.idle_timeout()), chatter);
                run_until(&mut harness, at)?;
                frame(&mut harness, FrameKind::Text)?;
                if chatter_counts {
                    last_alive = at;
                }
            }
            if server_driven {
                let at = last_alive + share(config.idle_timeout(), reply);
                run_until(&mut harness, at)?;
                frame(&mut harness, FrameKind::Binary)?;
                last_alive = at;
                continue;
            }
            let seen = tick_until(&mut harness, 10, |o| o.actions.iter().any(is_ping))?;
            let pinged_at = seen.last().expect("ticked").now;
            prop_assert_eq!(pinged_at, last_alive + config.ping_interval());
            let at = pinged_at + share(config.pong_timeout(), reply);
            run_until(&mut harness, at)?;
            frame(&mut harness, reply_kind(config.heartbeat()))?;
            last_alive = at;
        }
        let seen = tick_until(&mut harness, 20, |o| {
            o.events.iter().any(|e| matches!(e, Event::Disconnected { .. }))
        })?;
        let pings: Vec<Instant> = seen
            .iter()
            .filter(|o| o.actions.iter().any(is_ping))
            .map(|o| o.now)
            .collect();
        let dropped = seen.last().expect("ticked");
        let (expected_pings, bound, cause) = if server_driven {
            (vec![], config.idle_timeout(), Disconnect::IdleTimeout)
        } else {
            (
                vec![last_alive + config.ping_interval()],
                config.ping_interval() + config.pong_timeout(),
                Disconnect::HeartbeatTimeout,
            )
        };
        prop_assert_eq!(pings, expected_pings);
        prop_assert_eq!(dropped.now, last_alive + bound);
        prop_assert_eq!(dropped.actions.first(), Some(&Action::Abort));
        prop_assert!(dropped.events.iter().any(|e| matches!(
            e,
            Event::Disconnected { cause: c, code, .. } if *c == cause && *code == CloseCode::ABNORMAL
        )), "{:?}", dropped.events);
    }

    /// Invariant 2, late ticks: a tick later than the pong deadline by more than
    /// `late_tick_threshold` sends exactly one probe (and drops nothing); the probe's deadline
    /// is `pong_timeout` after that tick and final, however late the next tick is. A tick late
    /// by no more than the threshold drops at once.
    #[test]
    fn late_tick_gets_exactly_one_probe(
        config in config_with(
            prop_oneof![
                Just(Heartbeat::Protocol),
                Just(strategy::text_heartbeat()),
                Just(strategy::json_heartbeat()),
            ].boxed(),
            &POLICIES,
        ),
        seed in any::<u64>(),
        lateness in 0..2_000u64,
        second_lateness in 0..10_000u64,
    ) {
        let mut harness = Harness::checking(
            config.clone(),
            seed,
            &[Invariant::DeadPeerBound, Invariant::NoFalsePositive, Invariant::PollTimeout],
        );
        open_at(&mut harness, Instant::ZERO)?;
        tick_until(&mut harness, 10, |o| o.actions.iter().any(is_ping))?;
        let pong_deadline = config.ping_interval() + config.pong_timeout();
        let late_by = share(config.late_tick_threshold() * 2, lateness) + Duration::from_nanos(1);
        // Deadlines before the pong deadline (stability) are ticked on time.
        run_until(&mut harness, Instant::ZERO + pong_deadline)?;
        harness.set_now(Instant::ZERO + pong_deadline + late_by);
        let late = checked(harness.call(Call::Tick))?.clone();
        if late_by > config.late_tick_threshold() {
            prop_assert_eq!(late.actions.iter().filter(|a| is_ping(a)).count(), 1);
            prop_assert!(!late.actions.contains(&Action::Abort));
            prop_assert!(late.events.is_empty(), "{:?}", late.events);
            let probe_deadline = late.now + config.pong_timeout();
            run_until(&mut harness, probe_deadline)?;
            harness.set_now(probe_deadline + Duration::from_millis(second_lateness));
            let last = checked(harness.call(Call::Tick))?.clone();
            prop_assert_eq!(last.actions.first(), Some(&Action::Abort));
            prop_assert!(!last.actions.iter().any(is_ping), "a second probe: {:?}", last.actions);
        } else {
            prop_assert_eq!(late.actions.first(), Some(&Action::Abort));
            prop_assert!(!late.actions.iter().any(is_ping));
        }
    }

    /// Invariant 3: a peer that answers every ping (network-change probes included) strictly
    /// within `pong_timeout`, or, server-driven, never stays silent for `idle_timeout`, is never
    /// dropped, whatever else it sends.
    #[test]
    fn answering_peer_is_never_dropped(
        config in config_with(detecting_heartbeat(), &POLICIES),
        seed in any::<u64>(),
        rounds in prop::collection::vec(
            (0..1_000u64, prop::option::of(0..1_000u64), any::<bool>(), proptest::bool::weighted(0.15)),
            1..30,
        ),
    ) {
        let mut harness = Harness::checking(
            config.clone(),
            seed,
            &[Invariant::NoFalsePositive, Invariant::DeadPeerBound],
        );
        open_at(&mut harness, Instant::ZERO)?;
        let server_driven = matches!(config.heartbeat(), Heartbeat::ServerDriven);
        let mut last_alive = Instant::ZERO;
        for (reply, chatter, app_sends, network_change) in rounds {
            if app_sends {
                runs(&mut harness, &[Step::Send { binary: false, len: 8 }])?;
            }
            if server_driven {
                let at = last_alive + share(config.idle_timeout(), reply);
                run_until(&mut harness, at)?;
                frame(&mut harness, if chatter.is_some() { FrameKind::Ping } else { FrameKind::Text })?;
                last_alive = at;
                continue;
            }
            if let Some(chatter) = chatter {
                let at = harness.now() + share(config.ping_interval(), chatter);
                run_until(&mut harness, at)?;
                frame(&mut harness, FrameKind::NotAppPong)?;
            }
            let pinged_at = if network_change {
                runs(&mut harness, &[Step::NetworkChanged])?;
                harness.now()
            } else {
                tick_until(&mut harness, 10, |o| o.actions.iter().any(is_ping))?
                    .last()
                    .expect("ticked")
                    .now
            };
            let at = pinged_at + share(config.pong_timeout(), reply);
            run_until(&mut harness, at)?;
            frame(&mut harness, reply_kind(config.heartbeat()))?;
        }
        for observation in harness.transcript() {
            prop_assert!(!observation.actions.contains(&Action::Abort), "dropped: {:?}", observation);
            prop_assert!(
                !observation.events.iter().any(|e| matches!(e, Event::Disconnected { .. })),
                "dropped: {:?}", observation
            );
        }
    }

    /// Invariant 4: against a peer that never lets a connection last, every delay lies in its
    /// jitter band (raised to Retry-After), attempts count 1, 2, 3… up to `max_attempts`, each
    /// Connect comes exactly when its delay is over, `GaveUp` comes exactly once with the right
    /// count, and nothing reconnects after it.
    #[test]
    fn backoff_follows_the_formula(
        config in config_with(detecting_heartbeat(), &[ws_core::default_close_policy]),
        seed in any::<u64>(),
        failures in prop::collection::vec(0..4u8, 1..12),
        retry_after in prop::option::of(0..8_000u64),
    ) {
        let mut harness = Harness::checking(config.clone(), seed, &[Invariant::Backoff, Invariant::PollTimeout]);
        checked(harness.call(Call::Connect))?;
        let mut streak = 0u32;
        let mut previous = config.initial_delay();
        let mut gave_up = false;
        for failure in failures {
            let retry = (failure == 1).then(|| retry_after.map(Duration::from_millis)).flatten();
            let failed = match failure {
                0 => checked(harness.call(Call::Input(Input::ConnectFailed {
                    connection: harness.observed().observer().latest_connection().expect("connecting"),
                    failure: ConnectFailure::Io,
                })))?.clone(),
                1 => checked(harness.call(Call::Input(Input::ConnectFailed {
                    connection: harness.observed().observer().latest_connection().expect("connecting"),
                    failure: ConnectFailure::Http { status: 503, retry_after: retry },
                })))?.clone(),
                2 => tick_until(&mut harness, 1, |_| true)?.pop().expect("ticked"),
                _ => {
                    runs(&mut harness, &[Step::Opened(Target::Current)])?;
                    if config.stable_after().is_zero() {
                        streak = 0;
                        previous = config.initial_delay();
                    }
                    runs(&mut harness, &[Step::Error(Target::Current, TransportError::Eof)])?;
                    harness.transcript().last().expect("called").clone()
                }
            };
            let exhausted = config.max_attempts().is_some_and(|max| streak >= max);
            if exhausted {
                prop_assert!(failed.events.contains(&Event::GaveUp {
                    attempts: streak,
                    undelivered: 0,
                }), "{:?}", failed.events);
                gave_up = true;
                break;
            }
            let Some((attempt, delay)) = failed.events.iter().find_map(|e| match e {
                Event::Reconnecting { attempt, delay } => Some((*attempt, *delay)),
                _ => None,
            }) else {
                return Err(TestCaseError::fail(format!("no Reconnecting: {failed:?}")));
            };
            streak += 1;
            prop_assert_eq!(attempt, streak);
            let bounds = raise_to_retry_after(delay_bounds(&config, attempt, previous), &config, retry);
            prop_assert!(within(delay, bounds), "delay {:?} outside {:?}", delay, bounds);
            previous = delay;
            let connect_at = failed.now + delay;
            let connected = if failed.actions.iter().any(|a| matches!(a, Action::Connect { .. })) {
                failed
            } else {
                tick_until(&mut harness, 1, |_| true)?.pop().expect("ticked")
            };
            prop_assert_eq!(connected.now, connect_at);
            prop_assert!(connected.actions.iter().any(|a| matches!(
                a, Action::Connect { attempt, .. } if *attempt == streak
            )), "{:?}", connected.actions);
        }
        let gave_up_events = harness
            .transcript()
            .iter()
            .flat_map(|o| &o.events)
            .filter(|e| matches!(e, Event::GaveUp { .. }))
            .count();
        prop_assert_eq!(gave_up_events, usize::from(gave_up));
        if gave_up {
            let before = harness.transcript().len();
            runs(&mut harness, &[
                Step::TickOnTime,
                Step::Advance(Duration::from_secs(3_600)),
                Step::Tick,
                Step::NetworkChanged,
                Step::ReconnectNow,
                Step::Opened(Target::Current),
            ])?;
            for observation in &harness.transcript()[before..] {
                prop_assert!(observation.is_silent(), "after GaveUp: {:?}", observation);
            }
        }
    }

    /// Invariant 5: after an accepted `close()`, nothing reconnects — whatever the peer, the
    /// clock and the network do — until the application calls `connect()`.
    #[test]
    fn nothing_reconnects_after_close(
        config in config(),
        seed in any::<u64>(),
        steps in script(Mix::General, 40),
        tail in prop::collection::vec(strategy::step(Mix::Transports), 0..20),
    ) {
        let mut harness = Harness::checking(config, seed, &[Invariant::NoReconnectAfterClose]);
        runs(&mut harness, &steps)?;
        runs(&mut harness, &[Step::Close { code: 1000, reason_len: 3 }])?;
        let tail: Vec<Step> = tail.into_iter().filter(|s| *s != Step::Connect).collect();
        runs(&mut harness, &tail)?;
        runs(&mut harness, &[Step::TickOnTime, Step::TickOnTime, Step::TickOnTime])?;
        let mut closed = false;
        for observation in harness.transcript() {
            match (&observation.call, &observation.returned) {
                (Call::Close { .. }, Returned::Close(Ok(()))) => closed = true,
                (Call::Connect, _) => closed = false,
                _ => {}
            }
            if closed {
                prop_assert!(
                    !observation.actions.iter().any(|a| matches!(a, Action::Connect { .. })),
                    "Connect after close(): {:?}", observation
                );
            }
        }
    }

    /// Invariant 6: every message is emitted once, refused once, or handed back once; queued
    /// messages leave in send order; nothing is left unaccounted once the application closes.
    #[test]
    fn every_message_is_sent_or_handed_back_once(
        config in config(),
        seed in any::<u64>(),
        steps in script(Mix::Messages, 60),
    ) {
        let replay = config.replay_on_open().cloned();
        let mut harness = Harness::checking(config, seed, &[Invariant::Conservation]);
        runs(&mut harness, &steps)?;
        runs(&mut harness, &[
            Step::Close { code: 1000, reason_len: 0 },
            Step::Closed(Target::Current, 1000),
            Step::TickOnTime,
            Step::TickOnTime,
        ])?;
        prop_assert_eq!(harness.observed().observer().unresolved_messages(), 0);
        let mut outcomes = std::collections::HashMap::<Message, usize>::new();
        let mut queue_order = Vec::new();
        for observation in harness.transcript() {
            let (offered, jumps_queue) = match &observation.call {
                Call::Send { message, .. } => (Some(message), false),
                Call::SendNow { message, .. } => (Some(message), true),
                _ => (None, false),
            };
            if let Some(message) = offered {
                outcomes.entry(message.clone()).or_default();
                if let Returned::Send(Err(error)) = &observation.returned {
                    prop_assert_eq!(error.message(), message);
                    *outcomes.entry(message.clone()).or_default() += 1;
                }
            }
            // The replay at an open is not a send() message: it comes first, and is skipped.
            let replayed = match (&observation.call, &replay) {
                (Call::Input(Input::Opened { connection }), Some(replay))
                    if observation.events.iter().any(|e| matches!(e, Event::Open { .. })) =>
                {
                    replay.messages(*connection)
                }
                _ => Vec::new(),
            };
            let replay_actions: Vec<Action> = replayed.into_iter().map(Action::Send).collect();
            prop_assert_eq!(
                observation.actions.get(..replay_actions.len()),
                Some(&replay_actions[..])
            );
            for action in &observation.actions[replay_actions.len()..] {
                if let Action::Send(message) = action {
                    *outcomes.entry(message.clone()).or_default() += 1;
                    if !(jumps_queue && offered == Some(message)) {
                        queue_order.push(payload_number(message));
                    }
                }
            }
            for event in &observation.events {
                if let Event::Undelivered { message, .. } = event {
                    *outcomes.entry(message.clone()).or_default() += 1;
                }
            }
        }
        for (message, count) in &outcomes {
            prop_assert_eq!(*count, 1, "{:?} has {} outcomes", message, count);
        }
        prop_assert!(queue_order.is_sorted(), "emitted out of order: {:?}", queue_order);
    }

    /// Invariant 7: ticks before `poll_timeout()` change nothing — removing them from the
    /// script leaves every other output identical — and no tick leaves a deadline at or
    /// before its own time.
    #[test]
    fn poll_timeout_is_honest(
        config in config(),
        seed in any::<u64>(),
        steps in script(Mix::Timing, 60).prop_map(without_rewinds),
    ) {
        let per_step = run_stepwise(&config, seed, &steps, &[Invariant::PollTimeout])?;
        let early = |o: &Observation| {
            o.call == Call::Tick && o.timeout_before.is_none_or(|at| o.now < at)
        };
        let pruned: Vec<Step> = steps
            .iter()
            .zip(&per_step)
            .map(|(step, seen)| match seen {
                Some(o) if early(o) => Step::Advance(Duration::ZERO),
                _ => step.clone(),
            })
            .collect();
        let again = run_stepwise(&config, seed, &pruned, &[])?;
        let kept: Vec<&Observation> = per_step.iter().flatten().filter(|o| !early(o)).collect();
        let replayed: Vec<&Observation> = again.iter().flatten().collect();
        prop_assert_eq!(kept, replayed);
    }

    /// Invariant 8: the same config, seed and script give the same outputs, call for call.
    #[test]
    fn same_script_same_outputs(
        config in config(),
        seed in any::<u64>(),
        steps in script(Mix::General, 60),
    ) {
        checked(check_determinism(&config, seed, &steps))?;
    }

    /// Invariant 9: inputs naming an old or future transport change nothing — removing them
    /// from the script leaves every other output identical.
    #[test]
    fn stale_inputs_change_nothing(
        config in config(),
        seed in any::<u64>(),
        steps in script(Mix::Stale, 60).prop_map(without_rewinds),
    ) {
        let mut harness = Harness::checking(config.clone(), seed, &[Invariant::StaleInput]);
        let mut stale = Vec::with_capacity(steps.len());
        for step in &steps {
            let live = harness.observed().observer().live_connection();
            let before = harness.observed().observer().calls();
            checked(harness.apply(step))?;
            let input = (harness.observed().observer().calls() > before)
                .then(|| harness.transcript().last())
                .flatten()
                .and_then(|o| match &o.call {
                    Call::Input(input) => input.connection(),
                    _ => None,
                });
            stale.push(input.is_some_and(|c| Some(c) != live));
        }
        let pruned: Vec<Step> = steps
            .iter()
            .zip(&stale)
            .map(|(step, stale)| if *stale { Step::Advance(Duration::ZERO) } else { step.clone() })
            .collect();
        let original: Vec<Observation> = harness
            .transcript()
            .iter()
            .filter(|o| !matches!(&o.call, Call::Input(i) if i.connection().is_some() && o.is_silent() && o.timeout_before == o.timeout_after))
            .cloned()
            .collect();
        let again = run_stepwise(&config, seed, &pruned, &[])?;
        let replayed: Vec<Observation> = again
            .into_iter()
            .flatten()
            .filter(|o| !matches!(&o.call, Call::Input(i) if i.connection().is_some() && o.is_silent() && o.timeout_before == o.timeout_after))
            .collect();
        prop_assert_eq!(original, replayed);
    }

    /// The fuzz target's input: any byte string decodes to a scenario that keeps every
    /// guarantee and runs the same twice.
    #[test]
    fn decoded_byte_scenarios_keep_every_guarantee(data in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Err(failure) = ws_sim::Scenario::from_bytes(&data).check() {
            return Err(TestCaseError::fail(failure.to_string()));
        }
    }

    /// Totality and every invariant at once: any script — clocks going backwards, hours-long
    /// jumps, misused commands, inputs that make no sense — never panics and never breaks a
    /// guarantee.
    #[test]
    fn any_script_keeps_every_guarantee(
        config in config(),
        seed in any::<u64>(),
        steps in script(Mix::General, 100),
    ) {
        if let Err(failure) = ws_sim::check_script(&config, seed, &steps) {
            return Err(TestCaseError::fail(failure.to_string()));
        }
    }
}

/// The number in a harness payload `m<n>:xxx`.
fn payload_number(message: &Message) -> u64 {
    let bytes = message.as_bytes();
    let digits: String = bytes
        .iter()
        .skip(1)
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    digits.parse().unwrap_or(u64::MAX)
}
