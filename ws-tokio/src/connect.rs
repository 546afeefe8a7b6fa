//! One connect attempt: provider, DNS, TCP, TLS and WebSocket handshakes, each failure typed.

use std::sync::Arc;

use tokio::net::{TcpStream, lookup_host};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream, client_async_tls_with_config};
use ws_client::runtime::{Connected, Prepared};
use ws_client::{Attempt, ClientOptions, Error};

/// The socket of an open connection.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Runs attempt `attempt`. Resolving and connecting are done here rather than by
/// tokio-tungstenite so that a DNS failure, a refused port and other socket errors stay
/// distinct for the application.
pub(crate) async fn connect(
    options: Arc<ClientOptions>,
    attempt: Attempt,
) -> Result<Connected<Socket>, Error> {
    let mut prepared = Prepared::new(&options, attempt).await?;
    let resolved = lookup_host((prepared.host.as_str(), prepared.port)).await;
    let tcp = prepared.connect_any(resolved, TcpStream::connect).await?;
    // Heartbeats and small messages must not wait for Nagle's algorithm.
    tcp.set_nodelay(true)
        .map_err(|e| prepared.socket_error(e))?;
    let connector = match prepared.tls.take() {
        Some(config) => Connector::Rustls(config),
        None => Connector::Plain,
    };
    let request = std::mem::take(&mut prepared.request);
    let (socket, response) =
        client_async_tls_with_config(request, tcp, Some(prepared.websocket), Some(connector))
            .await
            .map_err(|e| prepared.handshake_error(e))?;
    Ok(prepared.into_connected(socket, response))
}
