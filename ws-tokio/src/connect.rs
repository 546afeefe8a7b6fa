//! tokio's primitives for ws-client's one connect attempt ([`dial`]): its resolver, sockets,
//! timer, rustls glue and tokio-tungstenite's handshake. The stages, their bounds, Happy
//! Eyeballs and the proxy handshake are ws-client's.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, lookup_host};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Error as WireError;
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};
use ws_client::runtime::{Connected, Dial, FailFastUtf8, dial};
use ws_client::rustls::ClientConfig;
use ws_client::rustls::pki_types::ServerName;
use ws_client::{Attempt, ClientOptions, Error};

/// The socket of an open connection.
pub(crate) type Socket = WebSocketStream<Checked<Stream>>;

/// The byte stream under the WebSocket's own TLS: TCP to the server or to a proxy, or TLS to
/// an `https://` proxy.
pub(crate) enum Conn {
    /// A TCP connection (to the server, or a tunnel through an HTTP or SOCKS5 proxy).
    Tcp(TcpStream),
    /// A tunnel through an `https://` proxy.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Conn {
    /// `Pending` while the TCP socket has nothing new to read; always `Ready` through TLS,
    /// whose buffers the reactor cannot see.
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Conn::Tcp(tcp) => tcp.poll_read_ready(cx),
            Conn::Tls(_) => Poll::Ready(Ok(())),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
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

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Tcp(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Conn::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The bytes under the WebSocket: a [`Conn`] for `ws://`, or TLS to the server over one.
///
/// Not tokio-tungstenite's `MaybeTlsStream`, which holds the rustls connection inline: every
/// plain connection would carry its ~1 KiB for the life of the socket. Boxed, TLS costs a
/// pointer when unused.
pub(crate) enum Stream {
    /// `ws://`.
    Plain(Conn),
    /// `wss://`.
    Tls(Box<TlsStream<Conn>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(conn) => Pin::new(conn).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(conn) => Pin::new(conn).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(conn) => Pin::new(conn).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(conn) => Pin::new(conn).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
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
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check.before_read()?;
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let kept = this.check.after_read(&buf.filled()[before..])?;
        buf.set_filled(before + kept);
        Poll::Ready(Ok(()))
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

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Runs attempt `attempt` on tokio.
pub(crate) async fn connect(
    options: Arc<ClientOptions>,
    attempt: Attempt,
) -> Result<Connected<Socket>, Error> {
    dial(&TokioDial, &options, attempt).await
}

/// tokio's connect primitives.
struct TokioDial;

impl Dial for TokioDial {
    type Tcp = TcpStream;
    type Conn = Conn;
    type Stream = Stream;
    type Socket = Socket;

    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(lookup_host((host, port)).await?.collect())
    }

    async fn tcp(&self, addr: SocketAddr) -> io::Result<TcpStream> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }

    fn plain(&self, tcp: TcpStream) -> Conn {
        Conn::Tcp(tcp)
    }

    async fn tls_to_proxy(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        tcp: TcpStream,
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

    fn unencrypted(&self, conn: Conn) -> Stream {
        Stream::Plain(conn)
    }

    async fn tls_to_server(
        &self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        conn: Conn,
    ) -> io::Result<Stream> {
        let tls = TlsConnector::from(config).connect(name, conn).await?;
        Ok(Stream::Tls(Box::new(tls)))
    }

    async fn upgrade(
        &self,
        request: Request,
        stream: Stream,
        config: WebSocketConfig,
    ) -> Result<(Socket, Response), WireError> {
        let stream = Checked {
            inner: stream,
            check: FailFastUtf8::new(),
        };
        client_async_with_config(request, stream, Some(config)).await
    }
}
