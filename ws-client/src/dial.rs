//! One connect attempt, written once for every async runtime: the URL function, DNS, Happy
//! Eyeballs, the proxy (TLS to an `https://` proxy, then `CONNECT` or SOCKS5), the server's
//! TLS and the WebSocket upgrade, each stage bounded and each failure typed.
//!
//! A runtime supplies the primitives ([`Dial`]: resolve, open TCP, sleep, run TLS, read and
//! write bytes, upgrade); the order of the stages, their time budget, the address race, the
//! proxy handshake and the check of the server's answer against the offer are here.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tungstenite::handshake::client::{Request, Response};
use tungstenite::protocol::WebSocketConfig;

use crate::attempt::{Budget, within};
use crate::endpoint::Attempt;
use crate::error::{ConnectStage, Error};
use crate::happy_eyeballs::race;
use crate::options::{ClientOptions, Prepared};
use crate::proxy::{ProxyFailure, ProxyHandshake, Step};
use crate::runtime::Connected;

/// What an async runtime provides to open a connection. Each method is one primitive of the
/// runtime's own (its resolver, sockets, timer, TLS and WebSocket glue); [`dial`] runs the
/// attempt with them.
pub trait Dial: Sync {
    /// A TCP connection.
    type Tcp: Send;
    /// The bytes under the server's TLS: a TCP connection, or TLS to an `https://` proxy.
    type Conn: Send;
    /// The bytes under the WebSocket: a [`Conn`](Self::Conn), or TLS to the server.
    type Stream: Send;
    /// The open WebSocket.
    type Socket: Send;

    /// Looks `host` up (`port` is the one to connect to).
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send;

    /// Opens a TCP connection to `addr`, with Nagle's algorithm off (heartbeats and small
    /// messages must not wait for it).
    fn tcp(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Tcp>> + Send;

    /// Completes after `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;

    /// A plain TCP connection as the bytes under the server's TLS.
    fn plain(&self, tcp: Self::Tcp) -> Self::Conn;

    /// Runs TLS with an `https://` proxy over `tcp`.
    fn tls_to_proxy(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        tcp: Self::Tcp,
    ) -> impl Future<Output = io::Result<Self::Conn>> + Send;

    /// Reads at most `buffer.len()` bytes (0 at the end of the stream).
    fn read(
        &self,
        conn: &mut Self::Conn,
        buffer: &mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send;

    /// Writes all of `bytes` and flushes them.
    fn write(
        &self,
        conn: &mut Self::Conn,
        bytes: &[u8],
    ) -> impl Future<Output = io::Result<()>> + Send;

    /// `conn` as the bytes under the WebSocket, for `ws://`.
    fn unencrypted(&self, conn: Self::Conn) -> Self::Stream;

    /// Runs TLS with the server over `conn`, for `wss://`.
    fn tls_to_server(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        conn: Self::Conn,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// The WebSocket opening handshake over `stream`.
    fn upgrade(
        &self,
        request: Request,
        stream: Self::Stream,
        config: WebSocketConfig,
    ) -> impl Future<Output = Result<(Self::Socket, Response), tungstenite::Error>> + Send;
}

/// Runs connect attempt `attempt` with `dial`'s primitives: [`Prepared::new`] (which calls the
/// URL function), DNS, TCP (Happy Eyeballs), the proxy, TLS and the WebSocket upgrade.
/// Resolving, connecting and TLS are done here rather than by the WebSocket glue so that a
/// DNS failure, a refused port, a proxy's refusal, a TLS failure and a stage that hangs stay
/// distinct for the application. Every stage is bounded by the attempt's [`Budget`], so a
/// stage that hangs is named in the timeout, not only in the supervisor's generic one.
pub async fn dial<D: Dial>(
    dial: &D,
    options: &ClientOptions,
    attempt: Attempt,
) -> Result<Connected<D::Socket>, Error> {
    let budget = Budget::new(options.config().connect_timeout());
    let left = || dial.sleep(budget.remaining());
    let mut prepared = Prepared::new(options, attempt).await?;
    let label = prepared.label.clone();
    let timed_out = |stage, tried: &[SocketAddr]| budget.timed_out(&label, stage, tried.to_vec());

    let (host, port) = prepared.dial();
    let resolved = match &prepared.pinned {
        Some(_) => Ok(Vec::new()),
        None => within(dial.resolve(host, port), left())
            .await
            .ok_or_else(|| timed_out(ConnectStage::Dns, &[]))?,
    };
    let addrs = prepared.addresses(resolved)?;
    let mut tried = Vec::new();
    let raced = within(
        race(addrs, |addr| dial.tcp(addr), |d| dial.sleep(d), &mut tried),
        left(),
    )
    .await;
    let (tcp, _) = raced
        .ok_or_else(|| timed_out(ConnectStage::Tcp, &tried))?
        .map_err(|e| prepared.race_failed(e))?;

    let conn = match &prepared.proxy {
        None => dial.plain(tcp),
        Some(_) => within(through_proxy(dial, &prepared, tcp), left())
            .await
            .ok_or_else(|| timed_out(ConnectStage::Proxy, &tried))??,
    };

    let stream = match &prepared.tls {
        Some(config) => within(
            dial.tls_to_server(Arc::clone(config), prepared.server_name()?, conn),
            left(),
        )
        .await
        .ok_or_else(|| timed_out(ConnectStage::Tls, &tried))?
        .map_err(|e| prepared.handshake_error(e.into()))?,
        None => dial.unencrypted(conn),
    };
    let request = std::mem::take(&mut prepared.request);
    let (socket, response) = within(dial.upgrade(request, stream, prepared.websocket), left())
        .await
        .ok_or_else(|| timed_out(ConnectStage::Upgrade, &tried))?
        .map_err(|e| prepared.handshake_error(e))?;
    prepared.offer.check(&response, &prepared.label)?;
    Ok(prepared.into_connected(socket, response))
}

/// Opens the tunnel: TLS to an `https://` proxy, the server's name resolved here for
/// `socks5://`, then the proxy's handshake.
async fn through_proxy<D: Dial>(
    dial: &D,
    prepared: &Prepared,
    tcp: D::Tcp,
) -> Result<D::Conn, Error> {
    let Some(proxy) = &prepared.proxy else {
        return Ok(dial.plain(tcp));
    };
    let mut conn = match &prepared.tls_to_proxy {
        Some(config) => dial
            .tls_to_proxy(Arc::clone(config), prepared.proxy_server_name()?, tcp)
            .await
            .map_err(|e| prepared.handshake_error_at(&proxy.address(), e.into()))?,
        None => dial.plain(tcp),
    };
    let resolved = if prepared.resolves_target_locally() {
        let found = dial
            .resolve(&prepared.host, prepared.port)
            .await
            .map_err(|e| prepared.dns_error(&prepared.host, e))?
            .into_iter()
            .next();
        let found = found
            .ok_or_else(|| prepared.dns_error(&prepared.host, io::ErrorKind::NotFound.into()))?;
        Some(found)
    } else {
        None
    };
    let target = prepared.proxy_target(resolved);
    tunnel(dial, &mut conn, ProxyHandshake::new(proxy, &target))
        .await
        .map_err(|failure| prepared.proxy_error(&target.to_string(), failure))?;
    Ok(conn)
}

/// Drives the proxy's `handshake` over `conn`.
async fn tunnel<D: Dial>(
    dial: &D,
    conn: &mut D::Conn,
    mut handshake: ProxyHandshake,
) -> Result<(), ProxyFailure> {
    let io_failure = |e: io::Error| ProxyFailure::Io(e.to_string());
    let mut buffer = [0; 512];
    loop {
        match handshake.step()? {
            Step::Write(bytes) => {
                dial.write(conn, bytes).await.map_err(io_failure)?;
                handshake.sent();
            }
            Step::Read(most) => {
                let most = most.min(buffer.len());
                let n = dial
                    .read(conn, &mut buffer[..most])
                    .await
                    .map_err(io_failure)?;
                handshake.received(&buffer[..n]);
            }
            Step::Done => return Ok(()),
        }
    }
}
