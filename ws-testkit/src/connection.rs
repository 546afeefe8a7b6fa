//! One accepted TCP connection of the [`TestServer`](crate::TestServer): handshake, then a loop
//! that serves client frames and commands from the test thread until either side ends it.

use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

use crate::behavior::{HandshakeMode, PingMode};
use crate::handshake::{parse_request, read_request_head, refusal, select_subprotocol};
use crate::recording::{Payload, Received, ServerClose, ServerState};
use crate::watched::Watched;
use crate::wire::{ServerStream, pong_frame};

/// Largest message and frame the server sends or accepts, so oversized-message scenarios
/// (e.g. 20 MiB) can be played in both directions.
const MAX_MESSAGE: usize = 64 << 20;

/// A request from the test thread to one connection.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send this message.
    Send(Message),
    /// Write these bytes to the socket as they are, at the next frame boundary.
    Raw(Bytes),
    /// Start the closing handshake with this code and reason.
    Close { code: u16, reason: String },
    /// Stop reading and writing for good but keep the socket open; dropping `done` confirms.
    Stall { done: std_mpsc::Sender<()> },
}

type State = Arc<Watched<ServerState>>;

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Serves one TCP connection until it ends or its task is aborted by `stop`.
pub(crate) async fn serve(mut tcp: TcpStream, state: State) {
    let _ = tcp.set_nodelay(true);
    let head = match read_request_head(&mut tcp).await {
        Ok(Some(head)) => head,
        Ok(None) => return,
        Err(err) => {
            tracing::debug!(%err, "reading the handshake request failed");
            return;
        }
    };
    let request = parse_request(&head);
    let mode = state.update(|s| {
        s.handshake_attempts += 1;
        s.handshake_times.push(Instant::now());
        s.requests.push(request);
        s.behavior.handshake
    });
    let stream = ServerStream::new(tcp, head);
    match mode {
        HandshakeMode::Hang => {
            // Keep the socket open, never answer; `stop` aborts this task.
            std::future::pending::<()>().await;
            drop(stream);
        }
        HandshakeMode::Refuse {
            status,
            retry_after,
        } => {
            let response = refusal(status, retry_after);
            #[expect(
                clippy::result_large_err,
                reason = "signature set by tungstenite's Callback"
            )]
            let refuse = move |_: &Request, _: Response| Err(response);
            let result =
                tokio_tungstenite::accept_hdr_async_with_config(stream, refuse, Some(config()))
                    .await;
            debug_assert!(result.is_err(), "a refused handshake cannot succeed");
        }
        HandshakeMode::Delay(delay) => {
            tokio::time::sleep(delay).await;
            accept_and_run(stream, state).await;
        }
        HandshakeMode::Accept => accept_and_run(stream, state).await,
    }
}

/// Removes a connection from the registry of open connections when its task ends or is aborted.
struct Registration {
    state: State,
    conn: usize,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.state.update(|s| s.open.remove(&self.conn));
    }
}

async fn accept_and_run(stream: ServerStream, state: State) {
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let (number_tx, mut number) = oneshot::channel();
    #[expect(
        clippy::result_large_err,
        reason = "signature set by tungstenite's Callback"
    )]
    let register = {
        let state = Arc::clone(&state);
        let commands_tx = commands_tx.clone();
        // Registered before the `101` goes out, so a test that saw its handshake complete can
        // immediately send to this connection.
        move |request: &Request, response: Response| {
            let conn = state.update(|s| {
                s.connections += 1;
                s.open.insert(s.connections, commands_tx);
                s.connections
            });
            let _ = number_tx.send(conn);
            Ok(select_subprotocol(request, response))
        }
    };
    let result =
        tokio_tungstenite::accept_hdr_async_with_config(stream, register, Some(config())).await;
    let registration = number.try_recv().ok().map(|conn| Registration {
        state: Arc::clone(&state),
        conn,
    });
    match (result, registration) {
        (Ok(mut ws), Some(registration)) => {
            ws.get_mut().handshake_done();
            let conn = registration.conn;
            let client_close = run(ws, conn, &state, commands, commands_tx).await;
            state.update(|s| {
                s.client_close_codes
                    .push(client_close.as_ref().map(|(code, _)| *code));
                s.client_close_frames.push(client_close);
            });
            drop(registration);
        }
        (Err(err), _) => tracing::debug!(%err, "handshake failed"),
        (Ok(_), None) => unreachable!("the accept callback runs before a handshake succeeds"),
    }
}

/// The message loop. Returns the close code and reason the client sent, if it sent a Close
/// frame with a code.
async fn run(
    mut ws: WebSocketStream<ServerStream>,
    conn: usize,
    state: &State,
    mut commands: mpsc::UnboundedReceiver<Command>,
    myself: mpsc::UnboundedSender<Command>,
) -> Option<(u16, String)> {
    let mut client_close = None;
    loop {
        tokio::select! {
            command = commands.recv() => {
                // `myself` keeps the channel open, so `None` cannot happen.
                let Some(command) = command else { break };
                let written = match command {
                    Command::Send(message) => ws.send(message).await,
                    Command::Raw(raw) => {
                        ws.get_mut().inject(&raw);
                        ws.flush().await
                    }
                    Command::Close { code, reason } => {
                        let frame = CloseFrame { code: code.into(), reason: reason.into() };
                        let written = ws.close(Some(frame)).await;
                        if written.is_ok() {
                            state.update(|s| s.server_closes.push(ServerClose {
                                conn,
                                sent: Instant::now(),
                                answered: None,
                            }));
                        }
                        written
                    }
                    Command::Stall { done } => {
                        state.update(|s| s.open.remove(&conn));
                        drop(done);
                        // Hold `ws` (and the socket) without polling it until `stop` aborts us.
                        std::future::pending::<()>().await;
                        unreachable!("a pending future never completes");
                    }
                };
                if let Err(err) = written {
                    tracing::debug!(conn, %err, "write failed");
                    break;
                }
            }
            incoming = ws.next() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(err)) => {
                        tracing::debug!(conn, %err, "read failed");
                        break;
                    }
                    None => break,
                };
                if let Message::Close(frame) = &message {
                    client_close = frame
                        .as_ref()
                        .map(|f| (u16::from(f.code), f.reason.as_str().to_owned()));
                    let now = Instant::now();
                    state.update(|s| {
                        for close in &mut s.server_closes {
                            if close.conn == conn && close.answered.is_none() {
                                close.answered = Some(now);
                            }
                        }
                    });
                }
                let reply = serve_message(message, conn, state, &myself);
                if let Some(reply) = reply {
                    let written = match reply {
                        Reply::Message(message) => ws.send(message).await,
                        Reply::Raw(raw) => {
                            ws.get_mut().inject(&raw);
                            ws.flush().await
                        }
                    };
                    if let Err(err) = written {
                        tracing::debug!(conn, %err, "write failed");
                        break;
                    }
                }
            }
        }
    }
    client_close
}

/// What to write back right away for a received message.
enum Reply {
    Message(Message),
    Raw(Bytes),
}

/// Records `message` and decides the reply under the current behaviour.
fn serve_message(
    message: Message,
    conn: usize,
    state: &State,
    myself: &mpsc::UnboundedSender<Command>,
) -> Option<Reply> {
    let (echo, pings, heartbeat) = state.read(|s| {
        (
            s.behavior.echo,
            s.behavior.pings,
            s.behavior.app_heartbeat.clone(),
        )
    });
    match message {
        Message::Text(text) => {
            if let Some(heartbeat) = heartbeat
                && text.as_str() == heartbeat.ping
            {
                state.update(|s| s.app_pings += 1);
                return heartbeat
                    .pong
                    .map(|pong| Reply::Message(Message::text(pong)));
            }
            state.update(|s| {
                s.received.push(Received {
                    conn,
                    payload: Payload::Text(text.as_str().to_owned()),
                });
            });
            echo.then_some(Reply::Message(Message::Text(text)))
        }
        Message::Binary(bytes) => {
            state.update(|s| {
                s.received.push(Received {
                    conn,
                    payload: Payload::Binary(bytes.clone()),
                });
            });
            echo.then_some(Reply::Message(Message::Binary(bytes)))
        }
        // tungstenite's own Pong is dropped by `ServerStream`; this is the only answer.
        Message::Ping(payload) => {
            state.update(|s| s.client_pings += 1);
            match pings {
                PingMode::Answer => Some(Reply::Raw(pong_frame(&payload))),
                PingMode::Ignore => None,
                PingMode::Delay(delay) => {
                    let myself = myself.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = myself.send(Command::Raw(pong_frame(&payload)));
                    });
                    None
                }
            }
        }
        Message::Pong(payload) => {
            state.update(|s| s.pongs.push(payload));
            None
        }
        // tungstenite answers Close by itself; the code was noted by the caller.
        Message::Close(_) | Message::Frame(_) => None,
    }
}
