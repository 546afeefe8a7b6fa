//! The `FaultProxy`'s modes, between a blocking tungstenite client and a `TestServer`.

mod common;

use common::{QUIET, WAIT, connect, is_timeout, read_text, set_read_timeout, try_connect};
use tungstenite::Message;
use ws_testkit::{FaultProxy, ProxyMode, TestServer};

#[test]
fn pass_forwards_both_ways() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    assert_eq!(proxy.upstream(), server.addr());
    assert_ne!(proxy.addr(), server.addr());
    let mut client = connect(&proxy.url());
    client.send(Message::text("through")).unwrap();
    assert_eq!(read_text(&mut client), "through");
    assert!(proxy.wait_for_connections(1, WAIT));
    assert_eq!(proxy.connections(), 1);
    assert_eq!(server.connections(), 1);
}

#[test]
fn freeze_stops_traffic_both_ways_and_pass_resumes_it() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let mut client = connect(&proxy.url());
    client.send(Message::text("a")).unwrap();
    assert_eq!(read_text(&mut client), "a");

    proxy.set_mode(ProxyMode::Freeze);
    assert_eq!(proxy.mode(), ProxyMode::Freeze);
    client.send(Message::text("b")).unwrap();
    assert_eq!(server.send_text("from server"), 1);
    set_read_timeout(&client, QUIET);
    let err = client.read().expect_err("nothing passes a frozen proxy");
    assert!(is_timeout(&err), "frozen, not closed: {err:?}");
    assert_eq!(server.received_texts(), ["a"]);

    proxy.set_mode(ProxyMode::Pass);
    set_read_timeout(&client, WAIT);
    assert_eq!(read_text(&mut client), "from server");
    assert_eq!(read_text(&mut client), "b");
    assert_eq!(server.received_texts(), ["a", "b"]);
}

#[test]
fn reset_all_gives_the_client_an_error() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let mut client = connect(&proxy.url());
    assert!(proxy.wait_for_connections(1, WAIT));
    assert_eq!(proxy.reset_all(), 1);
    let err = client.read().expect_err("the connection was reset");
    assert!(
        matches!(&err, tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );
    // The server saw its side end without a Close frame.
    assert!(server.wait_for_client_closes(1, WAIT));
    assert_eq!(server.client_close_codes(), [None]);

    // New connections are proxied normally.
    let mut client = connect(&proxy.url());
    client.send(Message::text("again")).unwrap();
    assert_eq!(read_text(&mut client), "again");
}

#[test]
fn refuse_fails_new_connects_but_keeps_open_ones() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let mut open = connect(&proxy.url());

    proxy.set_mode(ProxyMode::Refuse);
    let err = try_connect(proxy.url(), None).expect_err("a refusing proxy fails the connect");
    assert!(matches!(&*err, tungstenite::Error::Io(_)), "{err:?}");
    assert!(proxy.wait_for_connections(2, WAIT));
    assert_eq!(server.handshake_attempts(), 1);

    open.send(Message::text("still here")).unwrap();
    assert_eq!(read_text(&mut open), "still here");

    proxy.set_mode(ProxyMode::Pass);
    let mut client = connect(&proxy.url());
    client.send(Message::text("welcome back")).unwrap();
    assert_eq!(read_text(&mut client), "welcome back");
}

#[test]
fn upstream_down_resets_the_client() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    server.stop();
    let err = try_connect(proxy.url(), None).expect_err("no upstream");
    assert!(matches!(&*err, tungstenite::Error::Io(_)), "{err:?}");
    server.restart();
    let mut client = connect(&proxy.url());
    client.send(Message::text("up")).unwrap();
    assert_eq!(read_text(&mut client), "up");
}
