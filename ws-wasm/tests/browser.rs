//! ws-wasm in a real browser (headless Chromium through wasm-bindgen-test-runner), against
//! ws-testkit servers on 127.0.0.1 that `scripts/browser-tests.sh` starts behind the demo
//! server's control API. Each test asks the control API for a server of its own; every wait
//! has a deadline and none sleeps to let something happen.
//!
//! Run with `bash scripts/browser-tests.sh` (it bakes the control URL in as
//! `WS_WASM_CONTROL`).

#![cfg(target_arch = "wasm32")]

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use js_sys::{Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use ws_wasm::{
    ClientOptions, CloseCode, Config, Disconnect, Error, Event, Events, Heartbeat, Matcher,
    Message, MessageExt, State, Text, UndeliveredReason,
};

wasm_bindgen_test_configure!(run_in_browser);

const CONTROL: &str = match option_env!("WS_WASM_CONTROL") {
    Some(url) => url,
    None => "http://127.0.0.1:8099/",
};

/// The longest any single expected event may take.
const EVENT_DEADLINE_MS: i32 = 10_000;

// ----- helpers --------------------------------------------------------------------------------

fn sleep(millis: i32) -> JsFuture {
    let promise = Promise::new(&mut |resolve, _| {
        let window = web_sys::window().expect("a window");
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis)
            .expect("setTimeout");
    });
    JsFuture::from(promise)
}

/// `future`, or `None` after `millis`.
async fn within<T>(millis: i32, future: impl Future<Output = T>) -> Option<T> {
    let mut future = pin!(future);
    let mut deadline = sleep(millis);
    poll_fn(|cx| {
        if let Poll::Ready(value) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        match std::pin::Pin::new(&mut deadline).poll(cx) {
            Poll::Ready(_) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

async fn control(method: &str, path: &str) -> JsValue {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let window = web_sys::window().expect("a window");
    let url = format!("{CONTROL}{path}");
    let response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e:?}"));
    let response: web_sys::Response = response.unchecked_into();
    assert!(response.ok(), "{method} {url}: HTTP {}", response.status());
    JsFuture::from(response.json().expect("a JSON body"))
        .await
        .expect("JSON")
}

struct TestServer {
    id: u32,
    url: String,
    proxy: Option<String>,
}

impl TestServer {
    async fn start(query: &str) -> TestServer {
        let answer = control("POST", &format!("servers?{query}")).await;
        let field = |name: &str| Reflect::get(&answer, &name.into()).expect("field");
        TestServer {
            id: field("id").as_f64().expect("an id") as u32,
            url: field("url").as_string().expect("a url"),
            proxy: field("proxy").as_string(),
        }
    }

    async fn act(&self, action: &str) {
        control("POST", &format!("servers/{}/{action}", self.id)).await;
    }

    async fn received(&self) -> Vec<String> {
        let list = control("GET", &format!("servers/{}/received", self.id)).await;
        js_sys::Array::from(&list)
            .iter()
            .map(|text| text.as_string().unwrap_or_default())
            .collect()
    }

    /// The close codes clients sent, once `count` closes were seen (or at the deadline).
    async fn wait_for_closes(&self, count: u32) -> Vec<Option<u16>> {
        let deadline = js_sys::Date::now() + f64::from(EVENT_DEADLINE_MS);
        loop {
            let list = control("GET", &format!("servers/{}/closes", self.id)).await;
            let codes: Vec<Option<u16>> = js_sys::Array::from(&list)
                .iter()
                .map(|code| code.as_f64().map(|code| code as u16))
                .collect();
            if codes.len() >= count as usize || js_sys::Date::now() > deadline {
                return codes;
            }
            let _ = sleep(20).await;
        }
    }

    async fn handshakes(&self) -> u32 {
        control("GET", &format!("servers/{}/handshakes", self.id))
            .await
            .as_f64()
            .unwrap_or_default() as u32
    }

    /// Waits until the server has received `expected` (and no more), with a deadline.
    async fn wait_for_received(&self, expected: &[&str]) -> Vec<String> {
        let deadline = js_sys::Date::now() + f64::from(EVENT_DEADLINE_MS);
        loop {
            let received = self.received().await;
            if received.len() >= expected.len() || js_sys::Date::now() > deadline {
                return received;
            }
            let _ = sleep(20).await;
        }
    }
}

/// The next event, failing the test when none comes in time.
async fn next(events: &mut Events) -> Event {
    within(EVENT_DEADLINE_MS, events.recv())
        .await
        .expect("no event before the deadline")
        .expect("the event stream ended")
}

/// Events until (and including) the first that `wanted` accepts.
async fn until(events: &mut Events, wanted: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut seen = Vec::new();
    loop {
        let event = next(events).await;
        let done = wanted(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn is_open(event: &Event) -> bool {
    matches!(event, Event::Open { .. })
}

fn is_disconnected(event: &Event) -> bool {
    matches!(event, Event::Disconnected { .. })
}

/// Whether `event` is a failed attempt at `url` that the browser would not explain.
fn is_refused_attempt_at(event: &Event, url: &str) -> bool {
    matches!(
        event,
        Event::ConnectFailed { error: Error::NotOpened { url: tried }, .. } if tried == url
    )
}

fn app_heartbeat(ping_interval: Duration, pong_timeout: Duration) -> Config {
    Config::builder()
        .heartbeat(Heartbeat::Application {
            ping: Message::from("ping"),
            pong: Matcher::Exact(Text::from("pong")),
        })
        .ping_interval(ping_interval)
        .pong_timeout(pong_timeout)
        .initial_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200))
        .build()
        .unwrap()
}

fn options(url: &str, config: Config) -> ClientOptions {
    ClientOptions::builder(url).config(config).build().unwrap()
}

fn quiet() -> Config {
    Config::builder()
        .heartbeat(Heartbeat::Disabled)
        .initial_delay(Duration::from_millis(50))
        .max_delay(Duration::from_millis(200))
        .build()
        .unwrap()
}

fn dispatch(target: &web_sys::EventTarget, name: &str) {
    let event = web_sys::Event::new(name).unwrap();
    target.dispatch_event(&event).unwrap();
}

// ----- tests ------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Chat {
    user: String,
    text: String,
}

#[wasm_bindgen_test]
async fn text_binary_and_json_are_echoed() {
    let server = TestServer::start("").await;
    let (client, mut events) = ws_wasm::connect(options(&server.url, quiet()));
    client.send_text("hello").await.unwrap();
    client.send_binary(vec![0_u8, 1, 2, 255]).await.unwrap();
    let chat = Chat {
        user: "ana".into(),
        text: "héllo".into(),
    };
    client.send_json(&chat).await.unwrap();
    until(&mut events, is_open).await;
    assert_eq!(client.state(), State::Open);

    let Event::Message(text) = next(&mut events).await else {
        panic!("text expected")
    };
    assert_eq!(text.as_text(), Some("hello"));
    let Event::Message(Message::Binary(bytes)) = next(&mut events).await else {
        panic!("binary expected")
    };
    assert_eq!(&bytes[..], [0, 1, 2, 255]);
    let Event::Message(json) = next(&mut events).await else {
        panic!("json expected")
    };
    assert_eq!(json.json::<Chat>().unwrap(), chat);

    client.close(CloseCode::NORMAL, "done").await.unwrap();
    let tail = until(&mut events, |e| matches!(e, Event::Closed)).await;
    assert!(matches!(
        tail[0],
        Event::Disconnected {
            code: CloseCode::NORMAL,
            cause: Disconnect::Application,
            will_reconnect: false,
            ..
        }
    ));
    assert!(
        events.recv().await.is_none(),
        "the stream ends after Closed"
    );
}

#[wasm_bindgen_test]
async fn the_application_heartbeat_finds_a_frozen_peer_within_its_bound() {
    let server = TestServer::start("heartbeat=ping:pong&proxy").await;
    let (ping_interval, pong_timeout) = (Duration::from_millis(300), Duration::from_millis(300));
    let proxy = server.proxy.clone().unwrap();
    let (client, mut events) =
        ws_wasm::connect(options(&proxy, app_heartbeat(ping_interval, pong_timeout)));
    until(&mut events, is_open).await;
    // The heartbeat works: a pong comes back and is measured, not delivered as a message.
    let before = until(&mut events, |e| matches!(e, Event::Rtt(_))).await;
    assert!(!before.iter().any(|e| matches!(e, Event::Message(_))));
    assert!(client.stats().last_rtt.is_some());

    server.act("freeze").await;
    let frozen_at = js_sys::Date::now();
    let seen = until(&mut events, is_disconnected).await;
    let detected_after = js_sys::Date::now() - frozen_at;
    assert!(
        matches!(
            seen.last(),
            Some(Event::Disconnected {
                cause: Disconnect::HeartbeatTimeout,
                will_reconnect: true,
                ..
            })
        ),
        "{seen:?}"
    );
    // Bound: a ping at most ping_interval after the last sign of life, dead pong_timeout
    // after it; plus the browser's timer and scheduling slack.
    let bound = (ping_interval + pong_timeout).as_millis() as f64;
    assert!(
        detected_after <= bound + 250.0,
        "a frozen peer took {detected_after} ms to be found (bound {bound} ms)"
    );
    client.close(CloseCode::NORMAL, "").await.unwrap();
}

#[wasm_bindgen_test]
async fn a_server_restart_delivers_the_queued_messages_once_and_in_order() {
    let server = TestServer::start("").await;
    let (client, mut events) = ws_wasm::connect(options(&server.url, quiet()));
    until(&mut events, is_open).await;

    server.act("stop").await;
    let lost = until(&mut events, is_disconnected).await;
    assert!(matches!(
        lost.last(),
        Some(Event::Disconnected {
            will_reconnect: true,
            ..
        })
    ));
    for text in ["one", "two", "three"] {
        client.send_text(text).await.unwrap();
    }
    assert_eq!(client.stats().queued_messages, 3);

    server.act("restart").await;
    let outage = until(&mut events, is_open).await;
    // Attempts made while the server was down failed; none of them was a lost connection.
    for event in &outage {
        let failed_attempt = matches!(event, Event::ConnectFailed { .. });
        assert!(
            !is_disconnected(event)
                && (!failed_attempt || is_refused_attempt_at(event, &server.url)),
            "{outage:?}"
        );
    }
    let mut echoed = Vec::new();
    while echoed.len() < 3 {
        if let Event::Message(message) = next(&mut events).await {
            echoed.push(message.as_text().unwrap().to_owned());
        }
    }
    assert_eq!(echoed, ["one", "two", "three"]);
    assert_eq!(
        server.wait_for_received(&["one", "two", "three"]).await,
        ["one", "two", "three"],
        "the server received each queued message exactly once, in order"
    );
    assert_eq!(client.stats().queued_messages, 0);
    assert_eq!(client.stats().reconnects, 1);
    client.close(CloseCode::NORMAL, "").await.unwrap();
}

#[wasm_bindgen_test]
async fn it_gives_up_after_max_attempts_and_hands_the_queue_back() {
    let server = TestServer::start("").await;
    server.act("stop").await;
    let config = Config::builder()
        .heartbeat(Heartbeat::Disabled)
        .initial_delay(Duration::from_millis(20))
        .max_delay(Duration::from_millis(40))
        .max_attempts(Some(2))
        .build()
        .unwrap();
    let (client, mut events) = ws_wasm::connect(options(&server.url, config));
    client.send_text("never delivered").await.unwrap();
    let seen = until(&mut events, |e| matches!(e, Event::Closed)).await;

    let connecting: Vec<u32> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Connecting { attempt } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(connecting, [0, 1, 2], "the first connect plus two attempts");
    assert!(seen.iter().all(|e| !is_open(e)));
    // Nothing was ever connected, so nothing was lost: three failed attempts, no disconnect.
    assert!(!seen.iter().any(is_disconnected), "{seen:?}");
    let failed = seen
        .iter()
        .filter(|e| is_refused_attempt_at(e, &server.url))
        .count();
    assert_eq!(failed, 3, "{seen:?}");
    let tail = &seen[seen.len() - 4..];
    assert!(
        matches!(
            tail,
            [
                Event::ConnectFailed {
                    error: Error::NotOpened { .. },
                    will_reconnect: false,
                },
                Event::GaveUp {
                    attempts: 2,
                    undelivered: 1
                },
                Event::Undelivered {
                    reason: UndeliveredReason::Stopped,
                    ..
                },
                Event::Closed
            ]
        ),
        "{tail:?}"
    );
    assert_eq!(client.state(), State::Closed);
    assert!(matches!(
        client.send_text("late").await,
        Err(Error::Stopped)
    ));
    assert!(events.recv().await.is_none());
}

#[wasm_bindgen_test]
async fn a_permanent_close_code_stops_for_good() {
    let server = TestServer::start("").await;
    let (client, mut events) = ws_wasm::connect(options(&server.url, quiet()));
    until(&mut events, is_open).await;
    control("POST", &format!("servers/{}/close?code=1008", server.id)).await;
    let seen = until(&mut events, |e| matches!(e, Event::Closed)).await;
    assert!(
        matches!(
            &seen[..],
            [
                Event::Disconnected {
                    code: CloseCode::POLICY_VIOLATION,
                    cause: Disconnect::PeerClosed { .. },
                    will_reconnect: false,
                    ..
                },
                Event::Closed
            ]
        ),
        "{seen:?}"
    );
    // The stream has ended: no reconnect can follow.
    assert!(events.recv().await.is_none());
    assert_eq!(client.state(), State::Closed);
    assert_eq!(server.handshakes().await, 1);
}

#[wasm_bindgen_test]
async fn what_the_browser_refuses_is_an_error_not_an_exception() {
    let protocol = ClientOptions::builder("ws://127.0.0.1:1/")
        .config(Config::default())
        .build();
    assert!(matches!(
        protocol,
        Err(Error::InvalidOption {
            option: "heartbeat",
            ..
        })
    ));

    let server = TestServer::start("").await;
    let (client, mut events) = ws_wasm::connect(options(&server.url, quiet()));
    until(&mut events, is_open).await;
    for code in [1001, 1011, 2000] {
        assert!(
            matches!(
                client.close(CloseCode(code), "").await,
                Err(Error::Close(_))
            ),
            "{code}"
        );
    }
    assert_eq!(client.state(), State::Open);
    client.close(CloseCode(4000), "bye").await.unwrap();
    until(&mut events, |e| matches!(e, Event::Closed)).await;
}

#[wasm_bindgen_test]
async fn going_offline_probes_at_once_and_finds_a_dead_link_in_one_pong_timeout() {
    let server = TestServer::start("heartbeat=ping:pong&proxy").await;
    // A ping would not be due for a minute: only the `offline` event can find the dead link.
    let pong_timeout = Duration::from_millis(300);
    let config = app_heartbeat(Duration::from_secs(60), pong_timeout);
    let (client, mut events) = ws_wasm::connect(options(&server.proxy.clone().unwrap(), config));
    until(&mut events, is_open).await;

    // A live connection answers the probe and stays.
    let window: web_sys::EventTarget = web_sys::window().unwrap().unchecked_into();
    dispatch(&window, "online");
    until(&mut events, |e| matches!(e, Event::Rtt(_))).await;
    assert_eq!(client.state(), State::Open);

    server.act("freeze").await;
    let offline_at = js_sys::Date::now();
    dispatch(&window, "offline");
    let seen = until(&mut events, is_disconnected).await;
    let detected_after = js_sys::Date::now() - offline_at;
    assert!(matches!(
        seen.last(),
        Some(Event::Disconnected {
            cause: Disconnect::HeartbeatTimeout,
            ..
        })
    ));
    assert!(
        detected_after <= pong_timeout.as_millis() as f64 + 250.0,
        "took {detected_after} ms"
    );
    client.close(CloseCode::NORMAL, "").await.unwrap();
}

#[wasm_bindgen_test]
async fn a_page_that_wakes_probes_a_live_connection_and_keeps_it() {
    let server = TestServer::start("heartbeat=ping:pong").await;
    let config = app_heartbeat(Duration::from_secs(60), Duration::from_secs(5));
    let (client, mut events) = ws_wasm::connect(options(&server.url, config));
    until(&mut events, is_open).await;
    let document: web_sys::EventTarget = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .unchecked_into();
    dispatch(&document, "visibilitychange");
    let seen = until(&mut events, |e| matches!(e, Event::Rtt(_))).await;
    assert!(seen.iter().all(|e| !is_disconnected(e)), "{seen:?}");
    assert_eq!(client.state(), State::Open);
    assert_eq!(client.stats().pings_sent, 1, "one probe, answered");

    // A wake-up after the close changes nothing.
    client.close(CloseCode::NORMAL, "").await.unwrap();
    until(&mut events, |e| matches!(e, Event::Closed)).await;
    dispatch(&document, "visibilitychange");
    assert_eq!(client.stats().pings_sent, 1);
}

#[wasm_bindgen_test]
async fn dropping_every_handle_closes_with_1000() {
    let server = TestServer::start("").await;
    let (client, mut events) = ws_wasm::connect(options(&server.url, quiet()));
    until(&mut events, is_open).await;
    let spare = client.clone();
    drop(client);
    drop(events);
    assert_eq!(spare.state(), State::Open, "a clone keeps the client alive");
    drop(spare);
    // 1000, not 1001: a page may not send "going away" itself.
    assert_eq!(server.wait_for_closes(1).await, [Some(1000)]);
}

#[wasm_bindgen_test]
async fn a_url_provider_is_asked_before_every_attempt_and_its_failure_is_retried() {
    use std::cell::RefCell;
    use std::rc::Rc;

    let server = TestServer::start("").await;
    let asked = Rc::new(RefCell::new(Vec::new()));
    let endpoint = ws_wasm::Endpoint::provider({
        let (asked, url) = (Rc::clone(&asked), server.url.clone());
        move |attempt| {
            asked.borrow_mut().push(attempt);
            let url = url.clone();
            async move {
                // A token service that is down the first time.
                let _ = sleep(5).await;
                if attempt == 0 {
                    Err(Error::Provider("token service unavailable".into()))
                } else {
                    Ok(format!("{url}?token=t{attempt}"))
                }
            }
        }
    });
    let options = ClientOptions::builder_with(endpoint)
        .config(quiet())
        .build()
        .unwrap();
    let (client, mut events) = ws_wasm::connect(options);
    let seen = until(&mut events, is_open).await;
    assert!(
        matches!(
            &seen[1],
            Event::ConnectFailed {
                error: Error::Provider(_),
                will_reconnect: true,
            }
        ),
        "{seen:?}"
    );
    assert!(!seen.iter().any(is_disconnected), "{seen:?}");
    assert_eq!(*asked.borrow(), [0, 1]);
    assert_eq!(server.handshakes().await, 1);
    client.close(CloseCode::NORMAL, "").await.unwrap();
}
