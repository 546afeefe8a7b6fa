//! A whole simulated run, drawn from one seed: the client's config, the phases the server and
//! network go through, and what the application does. The seed alone reproduces the run.

use core::time::Duration;

use ws_core::{Config, Heartbeat, Jitter, Overflow, ServerPing};

use crate::fault::{Behaviour, Phase};
use crate::rng::SplitMix;
use crate::strategy::{
    always_reconnect, json_heartbeat, reconnect_only_after_1006, replay, text_heartbeat,
};

/// What the application does during a run.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct AppBehaviour {
    /// It sends a message this often.
    pub send_every: Duration,
    /// One message in this many carries a deadline (0: none do).
    pub deadline_every: u32,
    /// After the supervisor stopped (gave up or a permanent failure), it calls `connect()`
    /// again after this long.
    pub retry_after_stop: Duration,
    /// Percent chance, at each phase change, that it closes and reconnects a minute later.
    pub close_percent: u64,
}

/// A seeded run.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// The seed everything was drawn from (also the supervisor's seed).
    pub seed: u64,
    /// The client's configuration.
    pub config: Config,
    /// The server's and network's phases, in order.
    pub phases: Vec<Phase>,
    /// The application.
    pub app: AppBehaviour,
}

impl Schedule {
    /// The total virtual time of the run.
    pub fn duration(&self) -> Duration {
        self.phases.iter().map(|p| p.duration).sum()
    }

    /// Draws a schedule of about `hours` of virtual time from `seed`.
    pub fn generate(seed: u64, hours: u64) -> Schedule {
        let mut rng = SplitMix::new(seed);
        let config = config(&mut rng);
        let total = Duration::from_secs(hours * 3_600);
        let mut phases = Vec::new();
        let mut elapsed = Duration::ZERO;
        while elapsed < total {
            let mut phase = phase(&mut rng, &config);
            phase.duration = phase.duration.min(total.saturating_sub(elapsed));
            elapsed += phase.duration;
            phases.push(phase);
        }
        let app = AppBehaviour {
            send_every: rng.millis(5_000, 120_000),
            deadline_every: rng.pick(&[0, 2, 5]),
            retry_after_stop: rng.millis(30_000, 600_000),
            close_percent: rng.pick(&[0, 0, 5, 15]),
        };
        Schedule {
            seed,
            config,
            phases,
            app,
        }
    }
}

fn config(rng: &mut SplitMix) -> Config {
    let heartbeat = match rng.range(0, 5) {
        2 => text_heartbeat(),
        3 => json_heartbeat(),
        4 => Heartbeat::ServerDriven,
        _ => Heartbeat::Protocol,
    };
    let initial = rng.millis(200, 5_000);
    let mut builder = Config::builder()
        .heartbeat(heartbeat)
        .liveness(rng.pick(&[ws_core::Liveness::AnyFrame, ws_core::Liveness::ReplyOnly]))
        .ping_interval(rng.millis(5_000, 60_000))
        .pong_timeout(rng.millis(2_000, 30_000))
        .idle_timeout(rng.millis(20_000, 90_000))
        .late_tick_threshold(rng.millis(500, 5_000))
        .connect_timeout(rng.millis(2_000, 15_000))
        .close_timeout(rng.millis(1_000, 5_000))
        .initial_delay(initial)
        .max_delay(initial + rng.millis(0, 120_000))
        .multiplier(rng.pick(&[1.0, 1.5, 2.0, 3.0]))
        .jitter(rng.pick(&[
            Jitter::None,
            Jitter::Full,
            Jitter::Equal,
            Jitter::Decorrelated,
        ]))
        .max_attempts(if rng.chance(70) {
            None
        } else {
            Some(rng.range(1, 8) as u32)
        })
        .stable_after(rng.pick(&[
            Duration::ZERO,
            Duration::from_secs(5),
            Duration::from_secs(60),
        ]))
        .retry_after_cap(rng.millis(30_000, 300_000))
        .queue_max_messages(rng.range(0, 64) as usize)
        .queue_max_bytes(rng.range(0, 4_096) as usize)
        .overflow(rng.pick(&[Overflow::RejectNew, Overflow::DropOldest]))
        .max_queue_age(rng.chance(30).then(|| rng.millis(5_000, 120_000)))
        .hold_queue_until_ready(rng.chance(30))
        .close_policy(rng.pick(&[
            ws_core::default_close_policy,
            reconnect_only_after_1006,
            always_reconnect,
        ]))
        .credentials_refreshed(rng.chance(30))
        .auth_retries(rng.range(0, 3) as u32);
    if rng.chance(30) {
        builder = builder.replay_on_open(replay(rng.range(1, 2) as usize));
    }
    if rng.chance(20) {
        builder = builder.answer_server_ping(ServerPing::new(
            ws_core::Matcher::Exact(ws_core::Text::from_static("ping")),
            ws_core::Message::from("pong"),
        ));
    }
    builder.build().expect("generated configs are valid")
}

fn phase(rng: &mut SplitMix, config: &Config) -> Phase {
    let handshake = rng.millis(5, 1_500);
    let behaviour = match rng.range(0, 99) {
        0..=44 => Behaviour::Healthy {
            handshake,
            reply_delay: rng.millis(1, 1_500),
            chatter: if matches!(config.heartbeat(), Heartbeat::ServerDriven) {
                // The server's own heartbeat, comfortably inside the idle timeout.
                Some(config.idle_timeout() / 3)
            } else {
                rng.chance(50).then(|| rng.millis(2_000, 60_000))
            },
        },
        45..=56 => Behaviour::Silent { handshake },
        57..=66 => Behaviour::DropLink {
            handshake,
            after: rng.millis(10, 60_000),
        },
        67..=74 => Behaviour::CloseWith {
            handshake,
            after: rng.millis(10, 120_000),
            code: rng.pick(&[1000, 1001, 1011, 1012, 1013, 1008, 4000]),
        },
        75..=82 => Behaviour::Refuse {
            status: rng.pick(&[503, 503, 429, 500, 401, 403]),
            retry_after: rng.chance(60).then(|| rng.millis(0, 120_000)),
        },
        83..=94 => Behaviour::Unreachable {
            after: rng.millis(1, 3_000),
        },
        _ => Behaviour::Blackhole,
    };
    Phase {
        behaviour,
        duration: rng.millis(20_000, 1_200_000),
        suspend: rng.chance(5).then(|| rng.millis(1_000, 600_000)),
        network_change: rng.chance(5),
    }
}
