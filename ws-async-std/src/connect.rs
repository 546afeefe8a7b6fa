//! One connect attempt: provider, DNS, TCP (Happy Eyeballs), proxy, TLS and WebSocket
//! handshakes, each stage bounded and each failure typed.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::{Async, Timer};
use async_tungstenite::stream::Stream as MaybeTls;
use async_tungstenite::{WebSocketStream, client_async_with_config};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ws_client::ProxyFailure;
use ws_client::runtime::{Budget, Prepared, race, within};
use ws_client::runtime::{Connected, ProxyHandshake, Step};
use ws_client::{Attempt, ClientOptions, ConnectStage, Error};

/// A TCP connection registered with async-io's reactor.
type Tcp = Async<TcpStream>;

/// The socket of an open connection: plain for `ws://`, rustls for `wss://`.
pub(crate) type Socket = WebSocketStream<MaybeTls<Conn, TlsStream<Conn>>>;

/// The byte stream under the WebSocket's own TLS: TCP to the server or to a proxy, or TLS to
/// an `https://` proxy.
pub(crate) enum Conn {
    /// A TCP connection (to the server, or a tunnel through an HTTP or SOCKS5 proxy).
    Tcp(Tcp),
    /// A tunnel through an `https://` proxy.
    Tls(Box<TlsStream<Tcp>>),
}

impl Conn {
    /// `Pending` while the TCP socket has nothing new to read; always `Ready` through TLS,
    /// whose buffers the reactor cannot see.
    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Conn::Tcp(tcp) => tcp.poll_readable(cx),
            Conn::Tls(_) => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Tcp(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Tcp(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(tcp) => Pin::new(tcp).poll_flush(cx),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(tcp) => Pin::new(tcp).poll_close(cx),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_close(cx),
        }
    }
}

/// async-io's timer as a plain future.
async fn sleep(duration: Duration) {
    Timer::after(duration).await;
}

/// Runs attempt `attempt`. Resolving, connecting and the TLS handshake are done here rather
/// than by async-tungstenite so that a DNS failure, a refused port, a proxy's refusal, a TLS
/// failure and a stage that hangs stay distinct for the application, and so that the one
/// rustls configuration built by ws-client serves every attempt. DNS, TCP, the proxy and TLS
/// are bounded by the attempt's [`Budget`]; the upgrade by the supervisor's `connect_timeout`.
pub(crate) async fn connect(
    options: Arc<ClientOptions>,
    attempt: Attempt,
) -> Result<Connected<Socket>, Error> {
    let budget = Budget::new(options.config().connect_timeout());
    let left = || sleep(budget.remaining());
    let prepared = Prepared::new(&options, attempt).await?;
    let label = prepared.label.clone();
    let timed_out = |stage, tried: &[SocketAddr]| budget.timed_out(&label, stage, tried.to_vec());

    let (host, port) = prepared.dial();
    let resolved = match &prepared.pinned {
        Some(_) => Ok(Vec::new()),
        // IP literals resolve at once; host names on async-net's blocking thread pool.
        None => within(async_net::resolve((host, port)), left())
            .await
            .ok_or_else(|| timed_out(ConnectStage::Dns, &[]))?,
    };
    let addrs = prepared.addresses(resolved)?;
    let mut tried = Vec::new();
    let raced = within(race(addrs, Tcp::connect, sleep, &mut tried), left()).await;
    let (tcp, _) = raced
        .ok_or_else(|| timed_out(ConnectStage::Tcp, &tried))?
        .map_err(|e| prepared.race_failed(e))?;
    // Heartbeats and small messages must not wait for Nagle's algorithm.
    tcp.get_ref()
        .set_nodelay(true)
        .map_err(|e| prepared.socket_error(e))?;

    let conn = match &prepared.proxy {
        None => Conn::Tcp(tcp),
        Some(_) => within(through_proxy(&prepared, tcp), left())
            .await
            .ok_or_else(|| timed_out(ConnectStage::Proxy, &tried))??,
    };

    let stream = match &prepared.tls {
        Some(config) => {
            let tls = within(
                TlsConnector::from(Arc::clone(config)).connect(prepared.server_name()?, conn),
                left(),
            )
            .await
            .ok_or_else(|| timed_out(ConnectStage::Tls, &tried))?
            .map_err(|e| prepared.handshake_error(e.into()))?;
            MaybeTls::Tls(tls)
        }
        None => MaybeTls::Plain(conn),
    };
    let mut prepared = prepared;
    let request = std::mem::take(&mut prepared.request);
    let (socket, response) = client_async_with_config(request, stream, Some(prepared.websocket))
        .await
        .map_err(|e| prepared.handshake_error(e))?;
    prepared.offer.check(&response, &prepared.label)?;
    Ok(prepared.into_connected(socket, response))
}

/// Opens the tunnel: TLS to an `https://` proxy, the server's name resolved here for
/// `socks5://`, then the proxy's handshake.
async fn through_proxy(prepared: &Prepared, tcp: Tcp) -> Result<Conn, Error> {
    let Some(proxy) = &prepared.proxy else {
        return Ok(Conn::Tcp(tcp));
    };
    let mut conn = match &prepared.tls_to_proxy {
        Some(config) => Conn::Tls(Box::new(
            TlsConnector::from(Arc::clone(config))
                .connect(prepared.proxy_server_name()?, tcp)
                .await
                .map_err(|e| prepared.handshake_error_at(&proxy.address(), e.into()))?,
        )),
        None => Conn::Tcp(tcp),
    };
    let target =
        if prepared.resolves_target_locally() {
            let found = async_net::resolve((prepared.host.as_str(), prepared.port))
                .await
                .map_err(|e| prepared.dns_error(&prepared.host, e))?
                .into_iter()
                .next();
            Some(found.ok_or_else(|| {
                prepared.dns_error(&prepared.host, io::ErrorKind::NotFound.into())
            })?)
        } else {
            None
        };
    let target = prepared.proxy_target(target);
    tunnel(&mut conn, ProxyHandshake::new(proxy, &target))
        .await
        .map_err(|failure| prepared.proxy_error(&target.to_string(), failure))?;
    Ok(conn)
}

/// Drives `handshake` over `stream`.
async fn tunnel<S>(stream: &mut S, mut handshake: ProxyHandshake) -> Result<(), ProxyFailure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let io_failure = |e: io::Error| ProxyFailure::Io(e.to_string());
    let mut buffer = [0; 512];
    loop {
        match handshake.step()? {
            Step::Write(bytes) => {
                stream.write_all(bytes).await.map_err(io_failure)?;
                stream.flush().await.map_err(io_failure)?;
                handshake.sent();
            }
            Step::Read(most) => {
                let most = most.min(buffer.len());
                let n = stream.read(&mut buffer[..most]).await.map_err(io_failure)?;
                handshake.received(&buffer[..n]);
            }
            _ => return Ok(()),
        }
    }
}
