//! [`TestProxy`]: an HTTP `CONNECT` or SOCKS5 proxy on `127.0.0.1` whose replies a test
//! controls ([`ProxyFault`]): refuse with a status, hang, answer garbage, answer headers
//! larger than any client should accept, or answer slowly. It records every tunnel request
//! (the target, whether by name, and the credentials sent) and forwards tunnels to loopback
//! targets only.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::listen::{ANY_LOOPBACK_PORT, bind};
use crate::runtime::Background;
use crate::watched::Watched;

/// The protocol the proxy speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyProtocol {
    /// HTTP `CONNECT`; credentials in `Proxy-Authorization: Basic`.
    HttpConnect,
    /// SOCKS5; credentials by RFC 1929.
    Socks5,
}

/// What the proxy does with the next tunnel requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxyFault {
    /// Open the tunnel (after checking the credentials, if the proxy wants some).
    #[default]
    None,
    /// HTTP: answer with this status (and `Retry-After`, if set) instead of 200. SOCKS5:
    /// answer the connect request with reply code `status` (e.g. 5, refused).
    Refuse {
        /// The status or SOCKS5 reply code.
        status: u16,
        /// `Retry-After` seconds (HTTP only).
        retry_after: Option<u64>,
    },
    /// Read the request and never answer.
    Hang,
    /// Answer with bytes that are not the protocol.
    Garbage,
    /// HTTP: a 200 whose headers never end within 64 KiB.
    Oversized,
    /// Open the tunnel, but dribble the reply out one byte per this interval.
    Slow(Duration),
}

/// One tunnel request the proxy received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRequest {
    /// `host:port` as the client asked for it.
    pub target: String,
    /// Whether the target was a name (HTTP always; SOCKS5 address type 3) rather than an
    /// address resolved by the client.
    pub by_name: bool,
    /// The credentials sent: HTTP `Proxy-Authorization` value, or SOCKS5 `user:password`.
    pub credentials: Option<String>,
}

/// A proxy on a free loopback port. Dropping it closes every connection and joins its threads.
pub struct TestProxy {
    /// Owns the runtime: dropping it cancels every task and closes every socket.
    _background: Background,
    addr: SocketAddr,
    protocol: ProxyProtocol,
    https: bool,
    credentials: Option<(String, String)>,
    shared: Arc<Shared>,
}

struct Shared {
    fault: Mutex<ProxyFault>,
    credentials: Option<(String, String)>,
    requests: Watched<Vec<ProxyRequest>>,
}

impl std::fmt::Debug for TestProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestProxy")
            .field("addr", &self.addr)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl TestProxy {
    /// A proxy that opens every tunnel, without credentials.
    pub fn start(protocol: ProxyProtocol) -> Self {
        Self::start_with(protocol, None, ProxyFault::None)
    }

    /// An `https://` proxy (HTTP `CONNECT` over TLS) presenting the server certificate of
    /// `pki` (for `127.0.0.1`, `::1` and `localhost`).
    pub fn start_tls(pki: &crate::pki::TestPki) -> Self {
        Self::start_inner(
            ProxyProtocol::HttpConnect,
            None,
            ProxyFault::None,
            Some(TlsAcceptor::from(pki.server_config())),
        )
    }

    /// A proxy that wants `credentials` (`user`, `password`; HTTP answers 407 without them,
    /// SOCKS5 accepts only username/password) and starts with `fault`.
    pub fn start_with(
        protocol: ProxyProtocol,
        credentials: Option<(&str, &str)>,
        fault: ProxyFault,
    ) -> Self {
        Self::start_inner(protocol, credentials, fault, None)
    }

    fn start_inner(
        protocol: ProxyProtocol,
        credentials: Option<(&str, &str)>,
        fault: ProxyFault,
        tls: Option<TlsAcceptor>,
    ) -> Self {
        let https = tls.is_some();
        let background = Background::new("test-proxy");
        let listener = background
            .call(bind(ANY_LOOPBACK_PORT, Duration::ZERO))
            .expect("ws-testkit: cannot bind a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        let shared = Arc::new(Shared {
            fault: Mutex::new(fault),
            credentials: credentials.clone(),
            requests: Watched::new(Vec::new()),
        });
        background.spawn(accept_loop(listener, protocol, Arc::clone(&shared), tls));
        TestProxy {
            _background: background,
            addr,
            protocol,
            https,
            credentials,
            shared,
        }
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy URL with its credentials: `http://user:pw@127.0.0.1:PORT` (`https://` for
    /// [`start_tls`](Self::start_tls)) or
    /// `socks5h://…` (`remote_names`: the proxy resolves names) / `socks5://…`.
    pub fn url(&self, remote_names: bool) -> String {
        let scheme = match (self.protocol, remote_names) {
            (ProxyProtocol::HttpConnect, _) if self.https => "https",
            (ProxyProtocol::HttpConnect, _) => "http",
            (ProxyProtocol::Socks5, true) => "socks5h",
            (ProxyProtocol::Socks5, false) => "socks5",
        };
        let userinfo = self
            .credentials
            .as_ref()
            .map(|(u, p)| format!("{u}:{p}@"))
            .unwrap_or_default();
        format!("{scheme}://{userinfo}{}", self.addr)
    }

    /// Changes what the proxy does with later requests.
    pub fn set_fault(&self, fault: ProxyFault) {
        *self
            .shared
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = fault;
    }

    /// Every tunnel request so far.
    pub fn requests(&self) -> Vec<ProxyRequest> {
        self.shared.requests.read(Clone::clone)
    }

    /// Waits until at least `n` tunnel requests arrived; `false` at the deadline.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.shared.requests.wait_until(timeout, |r| r.len() >= n)
    }
}

async fn accept_loop(
    listener: TcpListener,
    protocol: ProxyProtocol,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
) {
    while let Ok((client, _)) = listener.accept().await {
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        tokio::spawn(async move {
            let _ = match (protocol, tls) {
                (ProxyProtocol::HttpConnect, None) => serve_http(client, &shared).await,
                (ProxyProtocol::HttpConnect, Some(tls)) => match tls.accept(client).await {
                    Ok(client) => serve_http(client, &shared).await,
                    Err(_) => Ok(()),
                },
                (ProxyProtocol::Socks5, _) => serve_socks5(client, &shared).await,
            };
        });
    }
}

type Served = std::io::Result<()>;

/// What the proxy serves on: TCP, or TLS for an `https://` proxy.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for S {}

fn fault(shared: &Shared) -> ProxyFault {
    shared
        .fault
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

async fn serve_http<S: Stream>(mut client: S, shared: &Shared) -> Served {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await? == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let target = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("CONNECT "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or("")
        .to_owned();
    let authorization = text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    shared.requests.update(|r| {
        r.push(ProxyRequest {
            target: target.clone(),
            by_name: true,
            credentials: authorization.clone(),
        });
    });
    let expected = shared.credentials.as_ref().map(|(u, p)| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    });
    if expected.is_some() && authorization != expected {
        client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    let reply: &[u8] = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: ws-testkit\r\n\r\n";
    match fault(shared) {
        ProxyFault::None => client.write_all(reply).await?,
        ProxyFault::Refuse {
            status,
            retry_after,
        } => {
            let retry = retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default();
            let answer = format!("HTTP/1.1 {status} Refused\r\n{retry}Content-Length: 0\r\n\r\n");
            client.write_all(answer.as_bytes()).await?;
            return Ok(());
        }
        ProxyFault::Hang => return hang(client).await,
        ProxyFault::Garbage => {
            client.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").await?;
            return hang(client).await;
        }
        ProxyFault::Oversized => {
            client.write_all(b"HTTP/1.1 200 OK\r\nX-Padding: ").await?;
            client.write_all(&vec![b'a'; 64 * 1024]).await?;
            return hang(client).await;
        }
        ProxyFault::Slow(every) => dribble(&mut client, reply, every).await?,
    }
    splice(client, &target).await
}

async fn serve_socks5(mut client: TcpStream, shared: &Shared) -> Served {
    let mut greeting = [0; 2];
    client.read_exact(&mut greeting).await?;
    let mut methods = vec![0; usize::from(greeting[1])];
    client.read_exact(&mut methods).await?;
    let mut credentials = None;
    if let Some((user, password)) = &shared.credentials {
        if !methods.contains(&2) {
            client.write_all(&[5, 0xFF]).await?;
            return Ok(());
        }
        client.write_all(&[5, 2]).await?;
        let mut version_and_length = [0; 2];
        client.read_exact(&mut version_and_length).await?;
        let mut name = vec![0; usize::from(version_and_length[1])];
        client.read_exact(&mut name).await?;
        let mut length = [0; 1];
        client.read_exact(&mut length).await?;
        let mut secret = vec![0; usize::from(length[0])];
        client.read_exact(&mut secret).await?;
        let sent = (
            String::from_utf8_lossy(&name).into_owned(),
            String::from_utf8_lossy(&secret).into_owned(),
        );
        credentials = Some(format!("{}:{}", sent.0, sent.1));
        let accepted = sent.0 == *user && sent.1 == *password;
        client.write_all(&[1, u8::from(!accepted)]).await?;
        if !accepted {
            return Ok(());
        }
    } else {
        client.write_all(&[5, 0]).await?;
    }
    let mut head = [0; 4];
    client.read_exact(&mut head).await?;
    let (host, by_name) = match head[3] {
        1 => {
            let mut ip = [0; 4];
            client.read_exact(&mut ip).await?;
            (IpAddr::from(ip).to_string(), false)
        }
        4 => {
            let mut ip = [0; 16];
            client.read_exact(&mut ip).await?;
            (IpAddr::from(ip).to_string(), false)
        }
        _ => {
            let mut length = [0; 1];
            client.read_exact(&mut length).await?;
            let mut name = vec![0; usize::from(length[0])];
            client.read_exact(&mut name).await?;
            (String::from_utf8_lossy(&name).into_owned(), true)
        }
    };
    let mut port = [0; 2];
    client.read_exact(&mut port).await?;
    let target = if host.contains(':') {
        format!("[{host}]:{}", u16::from_be_bytes(port))
    } else {
        format!("{host}:{}", u16::from_be_bytes(port))
    };
    shared.requests.update(|r| {
        r.push(ProxyRequest {
            target: target.clone(),
            by_name,
            credentials,
        });
    });
    let success: &[u8] = &[5, 0, 0, 1, 127, 0, 0, 1, 0, 0];
    match fault(shared) {
        ProxyFault::None => client.write_all(success).await?,
        ProxyFault::Refuse { status, .. } => {
            let code = u8::try_from(status).unwrap_or(1);
            client.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
            return Ok(());
        }
        ProxyFault::Hang => return hang(client).await,
        ProxyFault::Garbage | ProxyFault::Oversized => {
            client
                .write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                .await?;
            return hang(client).await;
        }
        ProxyFault::Slow(every) => dribble(&mut client, success, every).await?,
    }
    splice(client, &target).await
}

/// Keeps the connection open, reading and discarding, until the client goes.
async fn hang<S: Stream>(mut client: S) -> Served {
    let mut sink = [0; 1024];
    while client.read(&mut sink).await? > 0 {}
    Ok(())
}

async fn dribble<S: Stream>(client: &mut S, reply: &[u8], every: Duration) -> Served {
    for byte in reply {
        tokio::time::sleep(every).await;
        client.write_all(std::slice::from_ref(byte)).await?;
    }
    Ok(())
}

/// Forwards bytes both ways between `client` and `target`, which must be a loopback address
/// (a name is looked up and must resolve to loopback).
async fn splice<S: Stream>(mut client: S, target: &str) -> Served {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(target).await?.collect();
    let Some(addr) = addrs.into_iter().find(|a| a.ip().is_loopback()) else {
        return Ok(());
    };
    let mut server = TcpStream::connect(addr).await?;
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    Ok(())
}
