//! SOCKS5 (RFC 1928) with username/password authentication (RFC 1929): a greeting, an
//! optional authentication, a connect request; every reply has a known length, so each read
//! asks for exactly what is missing.

use std::net::SocketAddr;

use super::handshake::{ProxyFailure, ProxyTarget, Step};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASSWORD: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xFF;
const CONNECT: u8 = 1;
const IPV4: u8 = 1;
const DOMAIN: u8 = 3;
const IPV6: u8 = 4;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Waiting for the chosen method: 2 bytes.
    Method,
    /// Waiting for the authentication status: 2 bytes.
    Auth,
    /// Waiting for the connect reply's first 4 bytes.
    ReplyHead,
    /// Waiting for the length byte of a domain bound address.
    ReplyNameLength,
    /// Waiting for the bound address and port; the tunnel is ready after them.
    ReplyTail,
    Done,
}

pub(super) struct Socks5 {
    output: Vec<u8>,
    /// The authentication request, kept until the proxy picks username/password.
    auth: Option<Vec<u8>>,
    connect: Vec<u8>,
    phase: Phase,
    /// The bytes of the current reply so far, and how many it has in all.
    reply: Vec<u8>,
    need: usize,
    failure: Option<ProxyFailure>,
}

impl Socks5 {
    pub(super) fn new(target: &ProxyTarget, credentials: Option<(&str, &str)>) -> Self {
        let mut failure = None;
        let mut unsupported = |what: String| {
            failure.get_or_insert(ProxyFailure::Unsupported(what));
        };
        let auth = credentials.map(|(user, password)| {
            if user.is_empty() || user.len() > 255 || password.len() > 255 {
                unsupported(
                    "SOCKS5 credentials need a user name of 1 to 255 bytes and a password of at \
                     most 255"
                        .to_owned(),
                );
            }
            let mut auth = vec![1, user.len().min(255) as u8];
            auth.extend_from_slice(&user.as_bytes()[..user.len().min(255)]);
            auth.push(password.len().min(255) as u8);
            auth.extend_from_slice(&password.as_bytes()[..password.len().min(255)]);
            auth
        });
        let mut connect = vec![VERSION, CONNECT, 0];
        let port = match target {
            ProxyTarget::Addr(SocketAddr::V4(addr)) => {
                connect.push(IPV4);
                connect.extend_from_slice(&addr.ip().octets());
                addr.port()
            }
            ProxyTarget::Addr(SocketAddr::V6(addr)) => {
                connect.push(IPV6);
                connect.extend_from_slice(&addr.ip().octets());
                addr.port()
            }
            ProxyTarget::Name { host, port } => {
                match host.parse::<std::net::IpAddr>() {
                    Ok(std::net::IpAddr::V4(ip)) => {
                        connect.push(IPV4);
                        connect.extend_from_slice(&ip.octets());
                    }
                    Ok(std::net::IpAddr::V6(ip)) => {
                        connect.push(IPV6);
                        connect.extend_from_slice(&ip.octets());
                    }
                    Err(_) => {
                        if host.is_empty() || host.len() > 255 {
                            unsupported(format!(
                                "SOCKS5 host names have 1 to 255 bytes, `{}…` has {}",
                                host.chars().take(32).collect::<String>(),
                                host.len()
                            ));
                        }
                        connect.push(DOMAIN);
                        connect.push(host.len().min(255) as u8);
                        connect.extend_from_slice(&host.as_bytes()[..host.len().min(255)]);
                    }
                }
                *port
            }
        };
        connect.extend_from_slice(&port.to_be_bytes());
        let output = if auth.is_some() {
            vec![VERSION, 2, NO_AUTH, USER_PASSWORD]
        } else {
            vec![VERSION, 1, NO_AUTH]
        };
        Socks5 {
            output,
            auth,
            connect,
            phase: Phase::Method,
            reply: Vec::new(),
            need: 2,
            failure,
        }
    }

    pub(super) fn step(&mut self) -> Result<Step<'_>, ProxyFailure> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        if !self.output.is_empty() {
            return Ok(Step::Write(&self.output));
        }
        if self.phase == Phase::Done {
            return Ok(Step::Done);
        }
        Ok(Step::Read(self.need - self.reply.len()))
    }

    pub(super) fn sent(&mut self) {
        self.output.clear();
    }

    pub(super) fn received(&mut self, bytes: &[u8]) {
        if self.failure.is_some() || self.phase == Phase::Done {
            return;
        }
        if bytes.is_empty() {
            self.failure = Some(ProxyFailure::Closed);
            return;
        }
        let take = bytes.len().min(self.need - self.reply.len());
        self.reply.extend_from_slice(&bytes[..take]);
        if self.reply.len() == self.need
            && let Err(failure) = self.advance()
        {
            self.failure = Some(failure);
        }
    }

    /// The current reply is complete: act on it.
    fn advance(&mut self) -> Result<(), ProxyFailure> {
        let reply = std::mem::take(&mut self.reply);
        match self.phase {
            Phase::Method => {
                if reply[0] != VERSION {
                    return Err(malformed(&format!(
                        "version {} in the method reply, not 5",
                        reply[0]
                    )));
                }
                match (reply[1], self.auth.take()) {
                    (NO_AUTH, _) => self.send_connect(),
                    (USER_PASSWORD, Some(auth)) => {
                        self.output = auth;
                        self.expect(Phase::Auth, 2);
                    }
                    (NO_ACCEPTABLE, _) | (USER_PASSWORD, None) => {
                        return Err(ProxyFailure::NoAcceptableAuth);
                    }
                    (other, _) => {
                        return Err(malformed(&format!("it chose method {other}, not offered")));
                    }
                }
            }
            Phase::Auth => {
                if reply[1] != 0 {
                    return Err(ProxyFailure::AuthRejected);
                }
                self.send_connect();
            }
            Phase::ReplyHead => {
                if reply[0] != VERSION {
                    return Err(malformed(&format!(
                        "version {} in the connect reply, not 5",
                        reply[0]
                    )));
                }
                if reply[1] != 0 {
                    return Err(ProxyFailure::Socks { code: reply[1] });
                }
                match reply[3] {
                    IPV4 => self.expect(Phase::ReplyTail, 4 + 2),
                    IPV6 => self.expect(Phase::ReplyTail, 16 + 2),
                    DOMAIN => self.expect(Phase::ReplyNameLength, 1),
                    other => return Err(malformed(&format!("address type {other}"))),
                }
            }
            Phase::ReplyNameLength => self.expect(Phase::ReplyTail, usize::from(reply[0]) + 2),
            Phase::ReplyTail => self.phase = Phase::Done,
            Phase::Done => {}
        }
        Ok(())
    }

    fn send_connect(&mut self) {
        self.output = std::mem::take(&mut self.connect);
        self.expect(Phase::ReplyHead, 4);
    }

    fn expect(&mut self, phase: Phase, bytes: usize) {
        self.phase = phase;
        self.need = bytes;
        self.reply.clear();
    }
}

fn malformed(what: &str) -> ProxyFailure {
    ProxyFailure::Malformed(format!("not SOCKS5: {what}"))
}

#[cfg(test)]
mod tests {
    use super::super::handshake::run_scripted;
    use super::super::{Proxy, ProxyHandshake};
    use super::*;

    fn handshake(proxy: &str, target: &ProxyTarget) -> ProxyHandshake {
        ProxyHandshake::new(&Proxy::parse(proxy).unwrap(), target)
    }

    const OK_V4: &[u8] = &[5, 0, 0, 1, 127, 0, 0, 1, 0x1F, 0x90];

    #[test]
    fn remote_resolution_sends_the_name() {
        let mut hs = handshake("socks5h://p", &ProxyTarget::name("example.com", 443));
        let reply = [&[5, 0][..], OK_V4].concat();
        let (written, outcome) = run_scripted(&mut hs, &reply);
        assert_eq!(outcome, Ok(()));
        let mut expected = vec![5, 1, 0, 5, 1, 0, 3, 11];
        expected.extend_from_slice(b"example.com");
        expected.extend_from_slice(&[0x01, 0xBB]);
        assert_eq!(written, expected);
        assert_eq!(format!("{hs:?}"), "ProxyHandshake(SOCKS5)");
    }

    #[test]
    fn local_resolution_sends_the_address_and_reads_every_bound_address_form() {
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        let bound_forms: [&[u8]; 3] = [
            OK_V4,
            &[
                5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80,
            ],
            &[5, 0, 0, 3, 4, b'h', b'o', b's', b't', 0, 80],
        ];
        for bound in bound_forms {
            let mut hs = handshake("socks5://p", &ProxyTarget::Addr(v6));
            let (written, outcome) = run_scripted(&mut hs, &[&[5, 0][..], bound].concat());
            assert_eq!(outcome, Ok(()), "{bound:?}");
            let mut expected = vec![5, 1, 0, 5, 1, 0, 4];
            expected.extend_from_slice(&[0; 15]);
            expected.extend_from_slice(&[1, 0, 80]);
            assert_eq!(written, expected);
        }
        let v4 = ProxyTarget::Addr("10.1.2.3:9".parse().unwrap());
        let (written, _) = run_scripted(&mut handshake("socks5://p", &v4), &[5, 0]);
        assert_eq!(written[3..], [5, 1, 0, 1, 10, 1, 2, 3, 0, 9]);
    }

    #[test]
    fn credentials_use_rfc_1929_and_a_rejection_is_typed() {
        let target = ProxyTarget::name("h", 1);
        let mut hs = handshake("socks5h://bob:pw@p", &target);
        let reply = [&[5, 2, 1, 0][..], OK_V4].concat();
        let (written, outcome) = run_scripted(&mut hs, &reply);
        assert_eq!(outcome, Ok(()));
        assert_eq!(
            written[..12],
            [5, 2, 0, 2, 1, 3, b'b', b'o', b'b', 2, b'p', b'w']
        );
        let (_, outcome) =
            run_scripted(&mut handshake("socks5h://bob:pw@p", &target), &[5, 2, 1, 1]);
        assert_eq!(outcome, Err(ProxyFailure::AuthRejected));
        let (_, outcome) = run_scripted(&mut handshake("socks5h://p", &target), &[5, 0xFF]);
        assert_eq!(outcome, Err(ProxyFailure::NoAcceptableAuth));
        let (_, outcome) = run_scripted(&mut handshake("socks5h://p", &target), &[5, 2]);
        assert_eq!(outcome, Err(ProxyFailure::NoAcceptableAuth));
    }

    #[test]
    fn reply_codes_garbage_and_closes_are_typed_and_classified() {
        let target = ProxyTarget::name("h", 1);
        let run = |reply: &[u8]| run_scripted(&mut handshake("socks5h://p", &target), reply).1;
        let refused = run(&[5, 0, 5, 5, 0, 1]).unwrap_err();
        assert_eq!(refused, ProxyFailure::Socks { code: 5 });
        assert_eq!(refused.to_string(), "SOCKS5 reply 5: connection refused");
        assert_eq!(refused.connect_failure(), ws_core::ConnectFailure::Io);
        let forbidden = run(&[5, 0, 5, 2, 0, 1]).unwrap_err();
        assert_eq!(
            forbidden.connect_failure(),
            ws_core::ConnectFailure::Http {
                status: 403,
                retry_after: None
            }
        );
        assert!(matches!(
            run(b"HTTP/1.1 400"),
            Err(ProxyFailure::Malformed(_))
        ));
        assert!(matches!(
            run(&[5, 0, 5, 0, 0, 9]),
            Err(ProxyFailure::Malformed(_))
        ));
        assert_eq!(run(&[5, 0, 5]), Err(ProxyFailure::Closed));
    }

    #[test]
    fn names_and_credentials_too_long_for_socks5_are_refused_before_writing() {
        let long = "a".repeat(256);
        let mut hs = handshake("socks5h://p", &ProxyTarget::name(&long, 1));
        assert!(matches!(hs.step(), Err(ProxyFailure::Unsupported(_))));
        let mut hs = handshake(&format!("socks5h://{long}:x@p"), &ProxyTarget::name("h", 1));
        assert!(matches!(hs.step(), Err(ProxyFailure::Unsupported(_))));
    }
}
