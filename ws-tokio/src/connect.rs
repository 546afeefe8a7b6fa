//! One connect attempt: provider, DNS, TCP, TLS and WebSocket handshakes, each failure typed.

use std::sync::Arc;

use tokio::net::{TcpStream, lookup_host};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream, client_async_tls_with_config};
use ws_client::driver::Connected;
use ws_client::{ClientOptions, Error};

/// The socket of an open connection.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Runs attempt `attempt`. Resolving and connecting are done here rather than by
/// tokio-tungstenite so that a DNS failure, a refused port and other socket errors stay
/// distinct for the application.
pub(crate) async fn connect(
    options: Arc<ClientOptions>,
    attempt: u32,
) -> Result<Connected<Socket>, Error> {
    let prepared = options.prepare(attempt).await?;
    let resolved = lookup_host((prepared.host.as_str(), prepared.port)).await;
    let tcp = prepared.connect_any(resolved, TcpStream::connect).await?;
    // Heartbeats and small messages must not wait for Nagle's algorithm.
    tcp.set_nodelay(true).map_err(|e| {
        Error::transport(
            e.into(),
            &prepared.label,
            &prepared.server,
            ws_client::Stage::Connect,
        )
    })?;
    let connector = match prepared.tls {
        Some(config) => Connector::Rustls(config),
        None => Connector::Plain,
    };
    let (socket, response) = client_async_tls_with_config(
        prepared.request,
        tcp,
        Some(prepared.websocket),
        Some(connector),
    )
    .await
    .map_err(|e| Error::handshake(e, &prepared.label, &prepared.server))?;
    Ok(Connected {
        socket,
        response,
        server: prepared.server,
        label: prepared.label,
    })
}
