//! async-io's primitives for ws-client's one connect attempt ([`dial`]): async-net's
//! resolver, async-io's sockets and timer, futures-rustls and async-tungstenite's handshake.
//! The stages, their bounds, Happy Eyeballs and the proxy handshake are ws-client's.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_io::{Async, Timer};
use async_tungstenite::stream::Stream as MaybeTls;
use async_tungstenite::tungstenite::Error as WireError;
use async_tungstenite::tungstenite::handshake::client::{Request, Response};
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use async_tungstenite::{WebSocketStream, client_async_with_config};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ws_client::runtime::{Connected, Dial, FailFastUtf8, dial};
use ws_client::rustls::ClientConfig;
use ws_client::rustls::pki_types::ServerName;
use ws_client::{Attempt, ClientOptions, Error};

/// A TCP connection registered with async-io's reactor.
type Tcp = Async<TcpStream>;

/// The socket of an open connection: plain for `ws://`, rustls for `wss://`.
pub(crate) type Socket = WebSocketStream<Checked<Stream>>;

/// The bytes under the WebSocket. The rustls connection is boxed: inline, its ~1 KiB would
/// be carried by every plain connection for the life of the socket, too.
pub(crate) type Stream = MaybeTls<Conn, Box<TlsStream<Conn>>>;

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

/// The stream tungstenite reads, with invalid UTF-8 found as it arrives ([`FailFastUtf8`]):
/// above TLS, so the check sees the plain bytes from the HTTP response on.
pub(crate) struct Checked<S> {
    inner: S,
    check: FailFastUtf8,
}

impl<S> Checked<S> {
    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Checked<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check.before_read()?;
        let read = ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        Poll::Ready(this.check.after_read(&buf[..read]))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Checked<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// Runs attempt `attempt` on async-io.
pub(crate) async fn connect(
    options: Arc<ClientOptions>,
    attempt: Attempt,
) -> Result<Connected<Socket>, Error> {
    dial(&AsyncIoDial, &options, attempt).await
}

/// async-io's connect primitives.
struct AsyncIoDial;

impl Dial for AsyncIoDial {
    type Tcp = Tcp;
    type Conn = Conn;
    type Stream = Stream;
    type Socket = Socket;

    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        // IP literals resolve at once; host names on async-net's blocking thread pool.
        async_net::resolve((host, port)).await
    }

    async fn tcp(&self, addr: SocketAddr) -> io::Result<Tcp> {
        let tcp = Tcp::connect(addr).await?;
        tcp.get_ref().set_nodelay(true)?;
        Ok(tcp)
    }

    async fn sleep(&self, duration: Duration) {
        Timer::after(duration).await;
    }

    fn plain(&self, tcp: Tcp) -> Conn {
        Conn::Tcp(tcp)
    }

    async fn tls_to_proxy(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        tcp: Tcp,
    ) -> io::Result<Conn> {
        let tls = TlsConnector::from(config).connect(name, tcp).await?;
        Ok(Conn::Tls(Box::new(tls)))
    }

    async fn read(&self, conn: &mut Conn, buffer: &mut [u8]) -> io::Result<usize> {
        conn.read(buffer).await
    }

    async fn write(&self, conn: &mut Conn, bytes: &[u8]) -> io::Result<()> {
        conn.write_all(bytes).await?;
        conn.flush().await
    }

    fn unencrypted(&self, conn: Conn) -> Self::Stream {
        MaybeTls::Plain(conn)
    }

    async fn tls_to_server(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        conn: Conn,
    ) -> io::Result<Self::Stream> {
        let tls = TlsConnector::from(config).connect(name, conn).await?;
        Ok(MaybeTls::Tls(Box::new(tls)))
    }

    async fn upgrade(
        &self,
        request: Request,
        stream: Self::Stream,
        config: WebSocketConfig,
    ) -> Result<(Socket, Response), WireError> {
        let stream = Checked {
            inner: stream,
            check: FailFastUtf8::new(),
        };
        client_async_with_config(request, stream, Some(config)).await
    }
}
