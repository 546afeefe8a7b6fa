//! One connect attempt: provider, DNS, TCP, TLS and WebSocket handshakes, each failure typed.

use std::net::TcpStream;
use std::sync::Arc;

use async_io::Async;
use async_tungstenite::stream::Stream as MaybeTls;
use async_tungstenite::{WebSocketStream, client_async_with_config};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use ws_client::runtime::{Connected, Prepared};
use ws_client::{Attempt, ClientOptions, Error};

/// A TCP connection registered with async-io's reactor.
type Tcp = Async<TcpStream>;

/// The socket of an open connection: plain for `ws://`, rustls for `wss://`.
pub(crate) type Socket = WebSocketStream<MaybeTls<Tcp, TlsStream<Tcp>>>;

/// Runs attempt `attempt`. Resolving, connecting and the TLS handshake are done here rather
/// than by async-tungstenite so that a DNS failure, a refused port, a TLS failure and other
/// socket errors stay distinct for the application, and so that the one rustls configuration
/// built by ws-client serves every attempt.
pub(crate) async fn connect(
    options: Arc<ClientOptions>,
    attempt: Attempt,
) -> Result<Connected<Socket>, Error> {
    let mut prepared = Prepared::new(&options, attempt).await?;
    // IP literals resolve at once; host names on async-net's blocking thread pool.
    let resolved = async_net::resolve((prepared.host.as_str(), prepared.port)).await;
    let tcp = prepared.connect_any(resolved, Tcp::connect).await?;
    // Heartbeats and small messages must not wait for Nagle's algorithm.
    tcp.get_ref()
        .set_nodelay(true)
        .map_err(|e| prepared.socket_error(e))?;
    let stream = match &prepared.tls {
        Some(config) => {
            let tls = TlsConnector::from(Arc::clone(config))
                .connect(prepared.server_name()?, tcp)
                .await
                .map_err(|e| prepared.handshake_error(e.into()))?;
            MaybeTls::Tls(tls)
        }
        None => MaybeTls::Plain(tcp),
    };
    let request = std::mem::take(&mut prepared.request);
    let (socket, response) = client_async_with_config(request, stream, Some(prepared.websocket))
        .await
        .map_err(|e| prepared.handshake_error(e))?;
    Ok(prepared.into_connected(socket, response))
}
