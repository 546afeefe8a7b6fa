//! HTTP `CONNECT` (RFC 9110 §9.3.6): one request, one reply whose headers end the handshake.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::handshake::{ProxyFailure, ProxyTarget, Step};
use crate::retry_after::retry_after_from_headers;

/// The most reply header bytes accepted from a proxy.
pub(crate) const MAX_REPLY: usize = 8 * 1024;
const MAX_HEADERS: usize = 64;
const END: &[u8; 4] = b"\r\n\r\n";

pub(super) struct HttpConnect {
    request: Vec<u8>,
    reply: Vec<u8>,
    /// How many bytes of `\r\n\r\n` the reply ends with so far.
    matched: usize,
    outcome: Option<Result<(), ProxyFailure>>,
}

impl HttpConnect {
    pub(super) fn new(target: &ProxyTarget, credentials: Option<(&str, &str)>) -> Self {
        let authority = target.to_string();
        let mut request =
            format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
        if let Some((user, password)) = credentials {
            request.extend_from_slice(b"Proxy-Authorization: Basic ");
            request.extend_from_slice(STANDARD.encode(format!("{user}:{password}")).as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        HttpConnect {
            request,
            reply: Vec::new(),
            matched: 0,
            outcome: None,
        }
    }

    pub(super) fn step(&mut self) -> Result<Step<'_>, ProxyFailure> {
        match &self.outcome {
            Some(Ok(())) => Ok(Step::Done),
            Some(Err(failure)) => Err(failure.clone()),
            None if !self.request.is_empty() => Ok(Step::Write(&self.request)),
            // Reading no further than the shortest possible end of the headers keeps the
            // tunnel's first bytes in the stream.
            None => Ok(Step::Read(END.len() - self.matched)),
        }
    }

    pub(super) fn sent(&mut self) {
        self.request = Vec::new();
    }

    pub(super) fn received(&mut self, bytes: &[u8]) {
        if self.outcome.is_some() {
            return;
        }
        if bytes.is_empty() {
            self.outcome = Some(Err(ProxyFailure::Closed));
            return;
        }
        for &byte in bytes {
            self.matched = if byte == END[self.matched] {
                self.matched + 1
            } else {
                usize::from(byte == b'\r')
            };
        }
        self.reply.extend_from_slice(bytes);
        if self.matched == END.len() {
            self.outcome = Some(self.parse());
        } else if self.reply.len() >= MAX_REPLY {
            self.outcome = Some(Err(ProxyFailure::TooLarge { limit: MAX_REPLY }));
        } else if let Err(error) =
            httparse::Response::new(&mut [httparse::EMPTY_HEADER; MAX_HEADERS]).parse(&self.reply)
            && error != httparse::Error::TooManyHeaders
        {
            // Garbage is refused as soon as it is seen, not when the headers would end.
            self.outcome = Some(Err(malformed(error)));
        }
    }

    fn parse(&self) -> Result<(), ProxyFailure> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&self.reply) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => {
                return Err(ProxyFailure::Malformed("incomplete headers".to_owned()));
            }
            Err(error) => return Err(malformed(error)),
        }
        let status = response.code.unwrap_or(0);
        if (200..300).contains(&status) {
            return Ok(());
        }
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .and_then(|h| std::str::from_utf8(h.value).ok())
        };
        let reason: String = response
            .reason
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(128)
            .collect();
        Err(ProxyFailure::Status {
            status,
            reason,
            retry_after: header("retry-after")
                .and_then(|value| retry_after_from_headers(value, header("date"))),
        })
    }
}

fn malformed(error: httparse::Error) -> ProxyFailure {
    ProxyFailure::Malformed(format!("not an HTTP response ({error})"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::handshake::run_scripted;
    use super::super::{Proxy, ProxyHandshake};
    use super::*;

    fn handshake(proxy: &str, host: &str, port: u16) -> ProxyHandshake {
        ProxyHandshake::new(
            &Proxy::parse(proxy).unwrap(),
            &ProxyTarget::name(host, port),
        )
    }

    #[test]
    fn connect_request_and_a_200_reply_open_the_tunnel() {
        let mut hs = handshake("http://p:1", "example.com", 443);
        let (written, outcome) = run_scripted(
            &mut hs,
            b"HTTP/1.0 200 Connection established\r\nProxy-agent: x\r\n\r\n",
        );
        assert_eq!(
            written,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(hs.step(), Ok(Step::Done));
    }

    #[test]
    fn credentials_go_in_proxy_authorization_basic_and_ipv6_targets_in_brackets() {
        let mut hs = handshake("http://Aladdin:open%20sesame@p:1", "::1", 9000);
        let (written, _) = run_scripted(&mut hs, b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(
            String::from_utf8(written).unwrap(),
            "CONNECT [::1]:9000 HTTP/1.1\r\nHost: [::1]:9000\r\n\
             Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        assert_eq!(format!("{hs:?}"), "ProxyHandshake(HTTP CONNECT)");
    }

    #[test]
    fn reads_never_pass_the_end_of_the_headers() {
        let mut hs = handshake("http://p:1", "h", 80);
        let _ = run_scripted(&mut hs, b"");
        let mut hs = handshake("http://p:1", "h", 80);
        let mut reads = Vec::new();
        let reply = b"HTTP/1.1 200 OK\r\n\r\n";
        let mut at = 0;
        loop {
            match hs.step().unwrap() {
                Step::Write(_) => hs.sent(),
                Step::Read(most) => {
                    reads.push(most);
                    let n = most.min(reply.len() - at);
                    hs.received(&reply[at..at + n]);
                    at += n;
                }
                Step::Done => break,
            }
        }
        assert_eq!(at, reply.len());
        assert!(reads.iter().all(|&most| most <= 4), "{reads:?}");
    }

    #[test]
    fn a_refusal_keeps_status_reason_and_retry_after() {
        let mut hs = handshake("http://p:1", "h", 80);
        let (_, outcome) = run_scripted(
            &mut hs,
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(
            outcome,
            Err(ProxyFailure::Status {
                status: 503,
                reason: "Service Unavailable".to_owned(),
                retry_after: Some(Duration::from_secs(7)),
            })
        );
        let mut hs = handshake("http://p:1", "h", 80);
        let (_, outcome) = run_scripted(
            &mut hs,
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
        );
        let failure = outcome.unwrap_err();
        assert_eq!(
            failure.to_string(),
            "HTTP 407 Proxy Authentication Required"
        );
        assert_eq!(
            failure.connect_failure(),
            ws_core::ConnectFailure::Http {
                status: 407,
                retry_after: None
            }
        );
    }

    #[test]
    fn garbage_is_refused_at_once_and_an_endless_reply_at_the_limit() {
        let mut hs = handshake("http://p:1", "h", 80);
        let (_, outcome) = run_scripted(&mut hs, b"SSH-2.0-OpenSSH_9.2\r\n");
        assert!(
            matches!(outcome, Err(ProxyFailure::Malformed(_))),
            "{outcome:?}"
        );

        let mut hs = handshake("http://p:1", "h", 80);
        let mut endless = b"HTTP/1.1 200 OK\r\nX-Padding: ".to_vec();
        endless.resize(MAX_REPLY + 100, b'a');
        let (_, outcome) = run_scripted(&mut hs, &endless);
        assert_eq!(outcome, Err(ProxyFailure::TooLarge { limit: MAX_REPLY }));

        let mut hs = handshake("http://p:1", "h", 80);
        let (_, outcome) = run_scripted(&mut hs, b"HTTP/1.1 200 OK\r\n");
        assert_eq!(outcome, Err(ProxyFailure::Closed));
    }
}
