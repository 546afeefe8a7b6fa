//! A fresh token for every connection attempt.
//!
//! ```text
//! cargo run -p ws-tokio --example token_refresh
//! ```
//!
//! Tokens in URLs expire, so a client that reconnects with the token it started with is
//! locked out after the first long outage. Here an [`Endpoint`] provider is called before
//! every attempt and puts a newly issued `?token=` in the URL. The local server accepts each
//! token once (a reused one gets HTTP 401, which would stop the client for good) and restarts
//! the connection after a moment (close code 1012), so the client reconnects three times, each
//! time with a new token. Logs and errors show the URL as `token=***`.

// tungstenite's handshake callbacks return `Result<Response, ErrorResponse>`, a large `Err`.
#![allow(clippy::result_large_err)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use ws_tokio::{ClientOptions, CloseCode, Config, Endpoint, Event, Jitter, Target};

/// Stands in for an auth service: every call issues a new token.
#[derive(Default)]
struct TokenService {
    next: AtomicU64,
}

impl TokenService {
    fn issue(&self) -> String {
        format!("tok-{}", self.next.fetch_add(1, Ordering::Relaxed))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = start_server().await?;
    let tokens = Arc::new(TokenService::default());

    let endpoint = Endpoint::from_fn(move |attempt: ws_tokio::Attempt| {
        let token = tokens.issue();
        println!("attempt {}: fresh token {token}", attempt.number);
        Target::parse(&format!("ws://{addr}/feed?token={token}"))
    });
    let config = Config::builder()
        .initial_delay(Duration::from_millis(200))
        .max_delay(Duration::from_secs(2))
        .jitter(Jitter::Equal)
        .build()?;
    let options = ClientOptions::builder_with(endpoint)
        .config(config)
        .build()?;
    let (client, mut events) = ws_tokio::connect(options);

    let mut opened = 0;
    while let Some(event) = events.next().await {
        match event {
            Event::Open { .. } => {
                opened += 1;
                println!("open ({opened})");
                if opened == 4 {
                    client.close(CloseCode::NORMAL, "done").await?;
                }
            }
            Event::Disconnected {
                error: Some(error),
                will_reconnect,
                ..
            } => {
                println!("disconnected: {error} (reconnecting: {will_reconnect})");
            }
            Event::Reconnecting { attempt, delay } => {
                println!("reconnect attempt {attempt} in {delay:?}");
            }
            Event::Closed => {
                println!("closed");
                break;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A server that accepts each token once and restarts every connection after 300 ms.
async fn start_server() -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let used = Arc::new(Mutex::new(HashSet::new()));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let used = used.clone();
            tokio::spawn(async move {
                let check =
                    |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
                        let token = request.uri().query().and_then(|q| q.strip_prefix("token="));
                        match token {
                            Some(token) if used.lock().unwrap().insert(token.to_owned()) => {
                                Ok(response)
                            }
                            _ => Err(Response::builder()
                                .status(401)
                                .body(Some("token missing or already used".to_owned()))
                                .unwrap()),
                        }
                    };
                let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
                    return;
                };
                tokio::time::sleep(Duration::from_millis(300)).await;
                let restart = CloseFrame {
                    code: 1012.into(),
                    reason: "restarting".into(),
                };
                let _ = socket.close(Some(restart)).await;
                while socket.next().await.is_some() {}
            });
        }
    });
    Ok(addr)
}
