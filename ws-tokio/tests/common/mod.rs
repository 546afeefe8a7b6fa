//! A minimal local WebSocket server and event helpers, until the shared test kit lands.
//! Everything listens on 127.0.0.1 and every wait has a deadline.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WireMessage;
use ws_tokio::{Config, ConfigBuilder, Event, Events, Jitter};

/// Every wait in these tests ends within this.
pub(crate) const DEADLINE: Duration = Duration::from_secs(5);

pub(crate) type ServerSocket = WebSocketStream<TcpStream>;

/// A supervisor config that reconnects quickly and deterministically.
pub(crate) fn fast_config() -> ConfigBuilder {
    Config::builder()
        .initial_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(50))
        .jitter(Jitter::None)
}

pub(crate) async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Accepts TCP connections forever, running `handler(index, stream)` for each.
pub(crate) fn serve_tcp<F, Fut>(listener: TcpListener, handler: F)
where
    F: Fn(usize, TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handler = Arc::new(handler);
    let count = AtomicUsize::new(0);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let index = count.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(handler(index, tcp));
        }
    });
}

/// Accepts WebSocket connections forever, running `handler(index, socket)` for each.
pub(crate) fn serve<F, Fut>(listener: TcpListener, handler: F)
where
    F: Fn(usize, ServerSocket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handler = Arc::new(handler);
    serve_tcp(listener, move |index, tcp| {
        let handler = handler.clone();
        async move {
            if let Ok(socket) = tokio_tungstenite::accept_async(tcp).await {
                handler(index, socket).await;
            }
        }
    });
}

/// Echoes text and binary messages until the peer closes.
pub(crate) async fn echo<S>(mut socket: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(Ok(message)) = socket.next().await {
        if (message.is_text() || message.is_binary()) && socket.send(message).await.is_err() {
            return;
        }
    }
}

/// The next event, within the deadline.
pub(crate) async fn next_event(events: &mut Events) -> Event {
    timeout(DEADLINE, events.next())
        .await
        .expect("no event within the deadline")
        .expect("the event stream ended")
}

/// Skips events until one matches, within the deadline.
pub(crate) async fn wait_for(
    events: &mut Events,
    what: &str,
    matches: impl Fn(&Event) -> bool,
) -> Event {
    let search = async {
        while let Some(event) = events.next().await {
            if matches(&event) {
                return event;
            }
        }
        panic!("the event stream ended before {what}");
    };
    timeout(DEADLINE, search)
        .await
        .unwrap_or_else(|_| panic!("no {what} within the deadline"))
}

/// Waits for the end of the stream, returning the events seen on the way.
pub(crate) async fn until_end(events: &mut Events) -> Vec<Event> {
    timeout(DEADLINE, events.by_ref().collect::<Vec<_>>())
        .await
        .expect("the event stream did not end within the deadline")
}

/// The next data message the server reads, within the deadline.
pub(crate) async fn server_next(socket: &mut ServerSocket) -> WireMessage {
    timeout(DEADLINE, socket.next())
        .await
        .expect("the server read nothing within the deadline")
        .expect("the client went away")
        .expect("the server's read failed")
}
