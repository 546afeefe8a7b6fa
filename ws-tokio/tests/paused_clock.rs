//! The driver reads tokio's clock, so timer behaviour can be tested in paused time: hours of
//! backoff in microseconds, checked to the exact tick. No sockets: the endpoint provider fails
//! or hangs by itself.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::Instant;
use ws_tokio::{ClientOptions, Config, Endpoint, Error, Event, Jitter, Target, Timeout};

fn failing_provider() -> Endpoint {
    Endpoint::from_fn(|attempt| {
        Err(Error::provider(format!(
            "token service down ({})",
            attempt.number
        )))
    })
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_follow_the_config_on_tokios_clock() {
    let config = Config::builder()
        .initial_delay(Duration::from_secs(10))
        .multiplier(2.0)
        .max_delay(Duration::from_secs(60))
        .jitter(Jitter::None)
        .max_attempts(Some(3))
        .build()
        .unwrap();
    let options = ClientOptions::builder_with(failing_provider())
        .config(config)
        .build()
        .unwrap();
    let started = Instant::now();
    let (_client, events) = ws_tokio::connect(options);
    let events: Vec<Event> = events.collect().await;

    let timeline: Vec<String> = events
        .iter()
        .filter_map(|event| match event {
            Event::Connecting { attempt } => Some(format!("connecting {attempt}")),
            Event::Reconnecting { attempt, delay } => Some(format!("wait {attempt} {delay:?}")),
            Event::GaveUp { attempts, .. } => Some(format!("gave up after {attempts}")),
            Event::Closed => Some("closed".to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(
        timeline,
        [
            "connecting 0",
            "wait 1 10s",
            "connecting 1",
            "wait 2 20s",
            "connecting 2",
            "wait 3 40s",
            "connecting 3",
            "gave up after 3",
            "closed",
        ]
    );
    assert_eq!(started.elapsed(), Duration::from_secs(70));
    let Some(Event::ConnectFailed { error, .. }) = events
        .iter()
        .find(|e| matches!(e, Event::ConnectFailed { .. }))
    else {
        panic!("{events:?}");
    };
    assert_eq!(
        error.to_string(),
        "the URL function failed: token service down (0)"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_provider_hits_the_connect_timeout_to_the_tick() {
    let endpoint = Endpoint::from_async_fn(|_| std::future::pending::<Result<Target, Error>>());
    let config = Config::builder()
        .connect_timeout(Duration::from_secs(7))
        .no_reconnect()
        .build()
        .unwrap();
    let options = ClientOptions::builder_with(endpoint)
        .config(config)
        .build()
        .unwrap();
    let started = Instant::now();
    let (_client, events) = ws_tokio::connect(options);
    let events: Vec<Event> = events.collect().await;
    assert_eq!(started.elapsed(), Duration::from_secs(7));
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::Connecting { attempt: 0 },
                Event::ConnectFailed {
                    error: Error::Timeout {
                        what: Timeout::Connect,
                        ..
                    },
                    will_reconnect: false,
                },
                Event::GaveUp {
                    attempts: 0,
                    undelivered: 0
                },
                Event::Closed
            ]
        ),
        "{events:?}"
    );
}
