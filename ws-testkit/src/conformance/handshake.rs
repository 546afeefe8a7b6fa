//! What the client puts in its opening handshakes: headers and subprotocols, a URL (and
//! header) from the application's function before every attempt, and secrets that never show.

use std::sync::{Arc, Mutex, PoisonError};

use ws_client::{Attempt, ClientOptions, Endpoint, Error, Event, Target};
use ws_core::CloseCode;

use super::observe::{Scenario, describe_all, is_open};
use super::setup::{build, fast_reconnect};
use super::{Adapter, Driver, Handle, WAIT};
use crate::TestServer;

/// Extra headers and the offered subprotocols reach the server as given; the server's choice
/// (the kit's server takes the first offered) is reported in `Open`.
pub fn headers_and_subprotocols_are_sent_and_the_choice_reported<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "headers_and_subprotocols_are_sent_and_the_choice_reported",
    );
    let server = TestServer::start();
    let options = super::setup::options(&server.url(), fast_reconnect())
        .header("x-app", "demo")
        .subprotocol("chat.v2")
        .subprotocol("chat.v1");
    let mut client = adapter.start(build(options));
    let open = s.wait_for(&mut client, WAIT, "Open", is_open);
    s.check(
        matches!(&open, Event::Open { subprotocol: Some(p), .. } if *p == "chat.v2"),
        || format!("expected Open {{ subprotocol: Some(\"chat.v2\") }}, got {open:?}"),
    );
    let requests = server.requests();
    let seen: Vec<(Option<&str>, Option<&str>)> = requests
        .iter()
        .map(|r| (r.header("x-app"), r.header("sec-websocket-protocol")))
        .collect();
    s.check(seen == [(Some("demo"), Some("chat.v2, chat.v1"))], || {
        format!(
            "expected one request with x-app: demo and sec-websocket-protocol: chat.v2, \
             chat.v1; got {seen:?}"
        )
    });
}

/// What a URL function was called with: the attempt number and why the previous one failed.
type Calls = Arc<Mutex<Vec<(u32, Option<String>)>>>;

fn record(calls: &Calls, attempt: &Attempt) -> usize {
    let previous = attempt.previous_failure.as_ref().map(|error| match error {
        Error::Refused { .. } => "refused".to_owned(),
        other => format!("{other:?}"),
    });
    let mut calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
    calls.push((attempt.number, previous));
    calls.len()
}

/// A URL function runs before every attempt and gives each its own token and header: the
/// first attempt goes to a port where nothing listens, so the second learns it was refused
/// (`previous_failure`) and goes to the server; after the server closes with 1012, the
/// reconnect has no previous failure, and is attempt 2 (the count restarts only once a
/// connection has stayed open for `stable_after`, 10 s here).
pub fn url_function_gives_every_attempt_a_fresh_token<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "url_function_gives_every_attempt_a_fresh_token");
    let server = TestServer::start();
    let nothing_there = TestServer::start();
    let dead = nothing_there.addr();
    nothing_there.stop();
    let live = server.addr();
    let calls: Calls = Arc::default();
    let endpoint = {
        let calls = Arc::clone(&calls);
        Endpoint::from_fn(move |attempt: Attempt| {
            let call = record(&calls, &attempt);
            let addr = if call == 1 { dead } else { live };
            Target::parse(format!("ws://{addr}/chat?token=t{call}"))?
                .with_header("authorization", format!("Bearer b{call}"))
        })
    };
    let options = ClientOptions::builder_with(endpoint)
        .config(fast_reconnect().build().expect("valid config"));
    let mut client = adapter.start(build(options));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    s.check(server.close_all(1012, "restarting") == 1, || {
        "expected 1 open connection at the server".to_owned()
    });
    s.wait_for(&mut client, WAIT, "Open again", is_open);
    if let Err(error) = client.close(CloseCode::NORMAL, "") {
        s.fail(format_args!("close failed: {error}"));
    }
    s.until_end(&mut client, WAIT, "close");

    let calls = calls.lock().unwrap_or_else(PoisonError::into_inner).clone();
    s.check(
        calls == [(0, None), (1, Some("refused".to_owned())), (2, None)],
        || {
            format!(
                "expected the function called with attempts (0, no failure), (1, refused), \
                 (2, no failure); got {calls:?}"
            )
        },
    );
    let seen: Vec<(String, Option<String>)> = server
        .requests()
        .iter()
        .map(|r| (r.path.clone(), r.header("authorization").map(str::to_owned)))
        .collect();
    s.check(
        seen == [
            ("/chat?token=t2".to_owned(), Some("Bearer b2".to_owned())),
            ("/chat?token=t3".to_owned(), Some("Bearer b3".to_owned())),
        ],
        || format!("expected the 2nd and 3rd tokens at the server, got {seen:?}"),
    );
}

/// An async URL function is awaited before every attempt, on whatever the adapter drives its
/// attempts with (an async runtime, or the blocking adapter's connect thread with none): its
/// future here needs no runtime at all.
pub fn async_url_function_is_awaited_before_every_attempt<A: Adapter>(adapter: &A) {
    let s = Scenario::new(
        adapter,
        "async_url_function_is_awaited_before_every_attempt",
    );
    let server = TestServer::start();
    let url = server.url();
    let calls: Calls = Arc::default();
    let endpoint = {
        let calls = Arc::clone(&calls);
        Endpoint::from_async_fn(move |attempt: Attempt| {
            let call = record(&calls, &attempt);
            let url = format!("{url}feed?token=t{call}");
            async move { Target::parse(&url) }
        })
    };
    let options = ClientOptions::builder_with(endpoint)
        .config(fast_reconnect().build().expect("valid config"));
    let mut client = adapter.start(build(options));
    s.wait_for(&mut client, WAIT, "Open", is_open);
    for _ in 0..2 {
        if let Err(error) = client.reconnect_now() {
            s.fail(format_args!("reconnect_now failed: {error}"));
        }
        s.wait_for(&mut client, WAIT, "Open again", is_open);
    }
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    s.check(
        paths == ["/feed?token=t1", "/feed?token=t2", "/feed?token=t3"],
        || format!("expected a fresh token per attempt, got {paths:?}"),
    );
}

/// A token in the URL's query never shows: not in the options' `Debug`, the client's, the
/// driver's, nor in any event (errors name the URL).
pub fn tokens_never_show_in_debug_output<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "tokens_never_show_in_debug_output");
    let server = TestServer::start();
    let addr = server.addr();
    server.stop();
    let options = build(super::setup::options(
        &format!("ws://{addr}/x?token=s3cret&room=1"),
        fast_reconnect().no_reconnect(),
    ));
    let shown_options = format!("{options:?}");
    let (handle, events, driver) = adapter.connect_with_driver(options);
    let shown_driver = format!("{driver:?}");
    let running = std::thread::spawn(move || driver.run());
    let mut client = super::Client::new(handle, events);
    let events = s.until_end(&mut client, WAIT, "the refused attempt");
    let shown = format!(
        "{shown_options} {shown_driver} {:?} {events:?} {}",
        client.handle(),
        describe_all(&events)
    );
    drop(client);
    let _ = running.join();
    s.check(!shown.contains("s3cret"), || {
        format!("the token shows: {shown}")
    });
    s.check(shown.contains("token=***&room=***"), || {
        format!("expected the query redacted as token=***&room=***: {shown}")
    });
}
