//! A market-data client of the kind every trading front end writes: credentials that expire
//! within seconds, a subscription that must be the first thing on every connection, JSON ticks,
//! orders that must arrive exactly once and in order, and a server that restarts under it.
//!
//! ```text
//! cargo run -p ws-tokio --example market_data
//! ```
//!
//! The local exchange accepts only tokens issued in the last 2 s and restarts twice (closing
//! every connection with 1012, service restart); after the first restart it stalls the next
//! handshake for 2.5 s, so the token the client brought is stale by the time the server reads
//! it and the server answers 401. Because the URL comes
//! from a function called before every attempt, the client treats that 401 as "fetch fresh
//! credentials" (up to `auth_retries` times in a row) instead of giving up. The subscription
//! is replayed first on every connection (`replay_on_open`); orders sent during an outage wait
//! in the queue and go out after it.
//!
//! "Sent" means handed to an open connection. A server that crashes without closing loses
//! whatever was still in flight to it, as with any WebSocket client; a protocol that must
//! survive that acknowledges orders at the application level.

// tungstenite's handshake callbacks return `Result<Response, ErrorResponse>`, a large `Err`.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as Wire;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use ws_tokio::{
    Attempt, ClientOptions, CloseCode, Config, Endpoint, Event, Jitter, Message, MessageExt, Target,
};

/// How long a token stays valid, as the exchange sees it.
const TOKEN_LIFETIME: Duration = Duration::from_secs(2);

#[derive(Serialize, Deserialize, Debug)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Op {
    Subscribe { symbols: Vec<String> },
    Order { id: u64 },
}

#[derive(Serialize, Deserialize, Debug)]
struct Tick {
    symbol: String,
    price: f64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epoch = Instant::now();
    let exchange = Exchange::new(epoch);
    let addr = exchange.start(None).await?;

    // A fresh token before every attempt; the previous failure says why it is needed.
    let endpoint = Endpoint::from_fn(move |attempt: Attempt| {
        let issued = epoch.elapsed().as_millis();
        if let Some(status) = attempt.previous_status() {
            say(
                epoch,
                &format!(
                    "attempt {}: HTTP {status} last time, fresh token",
                    attempt.number
                ),
            );
        }
        Target::parse(format!("ws://{addr}/feed?token={issued}"))
    });
    let subscribe = serde_json::to_string(&Op::Subscribe {
        symbols: vec!["ABC".into(), "XYZ".into()],
    })?;
    let config = Config::builder()
        .initial_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(400))
        .jitter(Jitter::None)
        .replay_on_open(move |_| vec![Message::from(subscribe.as_str())])
        .build()?;
    let options = ClientOptions::builder_with(endpoint)
        .config(config)
        .build()?;
    let (client, mut events) = ws_tokio::connect(options);

    let orders = tokio::spawn(trade(client.clone(), epoch));
    let operator = tokio::spawn(operate(exchange.clone(), addr, epoch));

    let mut ticks = 0;
    let mut closing = false;
    while let Some(event) = events.next().await {
        match event {
            Event::Open { connection, .. } => {
                say(epoch, &format!("open ({connection}), subscribed first"));
            }
            Event::Message(message) => {
                let tick: Tick = message.json()?;
                ticks += 1;
                if ticks % 20 == 0 {
                    say(
                        epoch,
                        &format!("{ticks} ticks, last {} at {:.2}", tick.symbol, tick.price),
                    );
                }
            }
            Event::ConnectFailed {
                error,
                will_reconnect,
            } => {
                say(
                    epoch,
                    &format!("could not connect: {error} (retrying: {will_reconnect})"),
                );
            }
            Event::Disconnected {
                code,
                will_reconnect,
                ..
            } => {
                say(
                    epoch,
                    &format!("disconnected ({code}), reconnecting: {will_reconnect}"),
                );
            }
            Event::Undelivered { message, .. } | Event::Rejected { message, .. } => {
                say(epoch, &format!("handed back: {:?}", message.as_text()));
            }
            Event::Closed => break,
            _ => {}
        }
        if !closing && epoch.elapsed() > Duration::from_secs(8) {
            closing = true;
            client.close(CloseCode::NORMAL, "done").await?;
        }
    }
    operator.await?;
    let sent = orders.await?;
    let received = exchange.orders();
    let in_order = received.iter().copied().eq(0..sent);
    say(
        epoch,
        &format!(
            "orders: {sent} sent, {} received by the exchange, exactly once and in order: {in_order}",
            received.len()
        ),
    );
    Ok(())
}

/// The trading logic: an order every 100 ms for 7 s, whatever the connection is doing.
/// Returns how many were sent.
async fn trade(client: ws_tokio::Client, epoch: Instant) -> u64 {
    let mut sent = 0;
    let mut every = tokio::time::interval(Duration::from_millis(100));
    while epoch.elapsed() < Duration::from_secs(7) {
        every.tick().await;
        if client.send_json(&Op::Order { id: sent }).await.is_err() {
            break;
        }
        sent += 1;
    }
    sent
}

/// The operator: two restarts, the first followed by a stalled handshake.
async fn operate(exchange: Exchange, addr: SocketAddr, epoch: Instant) {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    say(epoch, "── exchange restarts");
    exchange.stop().await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    say(epoch, "── exchange back, its next handshake stalled 2.5 s");
    exchange.stall_next_handshake(Duration::from_millis(2500));
    exchange.start(Some(addr)).await.ok();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    say(epoch, "── exchange restarts again");
    exchange.stop().await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    say(epoch, "── exchange back");
    exchange.start(Some(addr)).await.ok();
}

fn say(epoch: Instant, line: &str) {
    println!("{:>6.3}s  {line}", epoch.elapsed().as_secs_f64());
}

/// The exchange: token check, subscription first, ticks out, orders in. Restartable.
#[derive(Clone)]
struct Exchange(Arc<Mutex<ExchangeState>>);

struct ExchangeState {
    epoch: Instant,
    orders: Vec<u64>,
    stall: Option<Duration>,
    running: Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
}

impl Exchange {
    fn new(epoch: Instant) -> Self {
        Exchange(Arc::new(Mutex::new(ExchangeState {
            epoch,
            orders: Vec::new(),
            stall: None,
            running: None,
        })))
    }

    fn orders(&self) -> Vec<u64> {
        self.0.lock().unwrap().orders.clone()
    }

    fn stall_next_handshake(&self, delay: Duration) {
        self.0.lock().unwrap().stall = Some(delay);
    }

    /// Stops listening and closes every connection with 1012 (service restart), reading what
    /// the clients sent until their Close replies arrive.
    async fn stop(&self) {
        let running = self.0.lock().unwrap().running.take();
        if let Some((stop, accepting)) = running {
            let _ = stop.send(true);
            let _ = accepting.await;
        }
    }

    async fn start(&self, addr: Option<SocketAddr>) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr.unwrap_or(([127, 0, 0, 1], 0).into())).await?;
        let addr = listener.local_addr()?;
        let exchange = self.clone();
        let (stop, stopping) = watch::channel(false);
        let accepting = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            let mut stopped = stopping.clone();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((tcp, _)) => {
                            connections.spawn(exchange.clone().serve(tcp, stopping.clone()));
                        }
                        Err(_) => break,
                    },
                    _ = stopped.changed() => break,
                }
            }
            drop(listener);
            while connections.join_next().await.is_some() {}
        });
        self.0.lock().unwrap().running = Some((stop, accepting));
        Ok(addr)
    }

    async fn serve(self, tcp: tokio::net::TcpStream, mut stopping: watch::Receiver<bool>) {
        let stall = self.0.lock().unwrap().stall.take();
        if let Some(stall) = stall {
            tokio::time::sleep(stall).await;
        }
        let epoch = self.0.lock().unwrap().epoch;
        let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
            let issued = request
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("token="))
                .and_then(|t| t.parse::<u64>().ok());
            let now = epoch.elapsed().as_millis() as u64;
            match issued {
                Some(issued) if now.saturating_sub(issued) <= TOKEN_LIFETIME.as_millis() as u64 => {
                    Ok(response)
                }
                _ => Err(Response::builder()
                    .status(401)
                    .body(Some("token expired".to_owned()))
                    .unwrap()),
            }
        };
        let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
            return;
        };
        // The first message must be the subscription.
        let Some(Ok(Wire::Text(first))) = socket.next().await else {
            return;
        };
        let Ok(Op::Subscribe { symbols }) = serde_json::from_str(&first) else {
            let _ = socket.close(None).await;
            return;
        };
        let mut every = tokio::time::interval(Duration::from_millis(50));
        let mut price = 100.0;
        let mut closing = false;
        loop {
            tokio::select! {
                _ = stopping.changed(), if !closing => {
                    closing = true;
                    let restart = CloseFrame { code: 1012.into(), reason: "restart".into() };
                    if socket.close(Some(restart)).await.is_err() {
                        return;
                    }
                }
                _ = every.tick(), if !closing => {
                    price += 0.25;
                    for symbol in &symbols {
                        let tick = serde_json::to_string(&Tick { symbol: symbol.clone(), price }).unwrap();
                        if socket.send(Wire::text(tick)).await.is_err() {
                            return;
                        }
                    }
                }
                incoming = socket.next() => match incoming {
                    Some(Ok(Wire::Text(text))) => {
                        if let Ok(Op::Order { id }) = serde_json::from_str(&text) {
                            self.0.lock().unwrap().orders.push(id);
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => return,
                },
            }
        }
    }
}
