//! A strict handshake: nothing the client did not offer is accepted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use ws_client::{Error, Event};

use super::observe::{Scenario, is_connect_failed};
use super::setup::{build, fast_reconnect, options};
use super::{Adapter, WAIT};

/// A one-purpose server: answers every upgrade with a valid `101` that also names
/// `extension`, which no client offered.
struct ExtensionServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ExtensionServer {
    fn start(extension: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            // Blocks in `accept`; `drop` raises the flag, then connects once to wake it.
            while let Ok((mut stream, _)) = listener.accept() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let _ = stream.set_read_timeout(Some(WAIT));
                let mut request = Vec::new();
                let mut byte = [0; 1];
                while !request.ends_with(b"\r\n\r\n") && request.len() < 16 * 1024 {
                    match stream.read(&mut byte) {
                        Ok(1) => request.push(byte[0]),
                        _ => break,
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let key = text
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("sec-websocket-key")
                            .then(|| value.trim().to_owned())
                    })
                    .unwrap_or_default();
                let accept =
                    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
                let response = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: \
                     Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: \
                     {extension}\r\n\r\n"
                );
                let _ = stream.write_all(response.as_bytes());
            }
        });
        ExtensionServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for ExtensionServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop, which sees the flag and ends.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A server that accepts the upgrade with `permessage-deflate`, never offered: the
/// connection fails with an `Error::UnofferedExtension` that names it (tungstenite itself
/// does not check extensions).
pub fn unoffered_extension_fails_the_connection_by_name<A: Adapter>(adapter: &A) {
    let s = Scenario::new(adapter, "unoffered_extension_fails_the_connection_by_name");
    let server = ExtensionServer::start("permessage-deflate; client_max_window_bits");
    let url = format!("ws://{}/", server.addr);
    let mut client = adapter.start(build(options(&url, fast_reconnect())));
    let event = s.wait_for(&mut client, WAIT, "ConnectFailed", is_connect_failed);
    s.check(
        matches!(
            &event,
            Event::ConnectFailed {
                error: Error::UnofferedExtension { extension, .. },
                ..
            } if extension == "permessage-deflate; client_max_window_bits"
        ),
        || format!("expected Error::UnofferedExtension naming permessage-deflate, got {event:?}"),
    );
}
