//! What one connect attempt shares across adapters: its time budget, the strict check of
//! the server's handshake response, and a runtime-free "this future or the deadline".
//!
//! # The budget
//!
//! The supervisor ends an attempt that outlives `connect_timeout` and reports
//! [`Timeout::Connect`](crate::Timeout::Connect), which cannot say where the attempt was.
//! So an attempt bounds its stages (DNS, TCP, proxy, TLS, the WebSocket upgrade) itself,
//! within a budget slightly shorter than `connect_timeout` ([`Budget`]), and fails with an
//! [`Error::StageTimeout`] that names the stage and the addresses tried. The supervisor's
//! deadline stays as the backstop (a URL function that hangs, a runtime that starves).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tungstenite::handshake::client::{Request, Response};
use tungstenite::http::HeaderMap;
use tungstenite::http::header::{SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_PROTOCOL};

use crate::error::{ConnectStage, Error};

/// The most an attempt's own budget leaves to the supervisor's deadline.
const MAX_MARGIN: Duration = Duration::from_millis(250);

/// One attempt's time budget: `connect_timeout` less a margin (a tenth, at most 250 ms), so
/// that the attempt's own stage timeout, which says where it was, fires before the
/// supervisor's generic one.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    started: Instant,
    limit: Duration,
}

impl Budget {
    /// A budget starting now, for an attempt bounded by `connect_timeout`.
    pub fn new(connect_timeout: Duration) -> Self {
        Budget {
            started: Instant::now(),
            limit: connect_timeout.saturating_sub((connect_timeout / 10).min(MAX_MARGIN)),
        }
    }

    /// What is left of the budget (zero once spent).
    pub fn remaining(&self) -> Duration {
        self.limit.saturating_sub(self.started.elapsed())
    }

    /// The moment the budget runs out.
    pub fn deadline(&self) -> Instant {
        self.started + self.limit
    }

    /// The error for a `stage` still running when the budget ran out.
    pub fn timed_out(&self, url: &str, stage: ConnectStage, tried: Vec<SocketAddr>) -> Error {
        Error::StageTimeout {
            url: url.to_owned(),
            stage,
            tried,
            after: self.started.elapsed(),
        }
    }
}

/// Runs `future` until `deadline` (any future, e.g. the runtime's sleep) completes first:
/// `Some(output)`, or `None` at the deadline.
pub async fn within<F: Future, D: Future>(future: F, deadline: D) -> Option<F::Output> {
    struct Within<F, D> {
        future: Pin<Box<F>>,
        deadline: Pin<Box<D>>,
    }
    impl<F: Future, D: Future> Future for Within<F, D> {
        type Output = Option<F::Output>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            if let Poll::Ready(output) = self.future.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            self.deadline.as_mut().poll(cx).map(|_| None)
        }
    }
    Within {
        future: Box::pin(future),
        deadline: Box::pin(deadline),
    }
    .await
}

/// What a handshake request offered the server: the response may choose only from it.
///
/// tungstenite checks the subprotocol but not the extensions (RFC 6455 §4.1 says the client
/// must fail the connection on either); [`check`](Self::check) does both, naming the culprit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offer {
    extensions: Vec<String>,
    subprotocols: Vec<String>,
}

impl Offer {
    /// The offer in `request` (read before the request is handed to tungstenite).
    pub fn of(request: &Request) -> Self {
        let tokens = |headers: &HeaderMap, name| -> Vec<String> {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|item| item.split(';').next().unwrap_or("").trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect()
        };
        Offer {
            extensions: tokens(request.headers(), SEC_WEBSOCKET_EXTENSIONS),
            subprotocols: tokens(request.headers(), SEC_WEBSOCKET_PROTOCOL),
        }
    }

    /// Fails with [`Error::UnofferedExtension`] or [`Error::UnofferedSubprotocol`] when
    /// `response` (the server's `101`) uses something not offered; `url` is the redacted URL.
    pub fn check(&self, response: &Response, url: &str) -> Result<(), Error> {
        for value in response.headers().get_all(SEC_WEBSOCKET_EXTENSIONS) {
            let text = String::from_utf8_lossy(value.as_bytes());
            for extension in text.split(',') {
                let name = extension.split(';').next().unwrap_or("").trim();
                if name.is_empty() {
                    continue;
                }
                if !self.extensions.iter().any(|o| o.eq_ignore_ascii_case(name)) {
                    return Err(Error::UnofferedExtension {
                        url: url.to_owned(),
                        extension: printable(extension.trim()),
                    });
                }
            }
        }
        if let Some(value) = response.headers().get(SEC_WEBSOCKET_PROTOCOL) {
            let chosen = String::from_utf8_lossy(value.as_bytes());
            let chosen = chosen.trim();
            if !self.subprotocols.iter().any(|o| o == chosen) {
                return Err(Error::UnofferedSubprotocol {
                    url: url.to_owned(),
                    subprotocol: printable(chosen),
                });
            }
        }
        Ok(())
    }
}

/// At most 128 characters of `text`, control characters dropped: it came from the network.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(128).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(headers: &[(&str, &str)]) -> Response {
        let mut builder = tungstenite::http::Response::builder().status(101);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(None).unwrap()
    }

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().uri("ws://h/");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn an_extension_the_client_did_not_offer_fails_the_connection_by_name() {
        let offer = Offer::of(&request(&[]));
        let error = offer
            .check(
                &response(&[(
                    "Sec-WebSocket-Extensions",
                    "permessage-deflate; client_max_window_bits",
                )]),
                "ws://h/",
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "ws://h/ accepted the upgrade with extension `permessage-deflate; \
             client_max_window_bits`, which the client did not offer"
        );
        assert_eq!(error.connect_failure(), ws_core::ConnectFailure::Protocol);
        let offered = Offer::of(&request(&[(
            "Sec-WebSocket-Extensions",
            "x-test; a=1, x-other",
        )]));
        assert!(
            offered
                .check(&response(&[("Sec-WebSocket-Extensions", "x-other")]), "u")
                .is_ok()
        );
        assert!(offered.check(&response(&[]), "u").is_ok());
    }

    #[test]
    fn a_subprotocol_the_client_did_not_offer_fails_the_connection_by_name() {
        let offer = Offer::of(&request(&[("Sec-WebSocket-Protocol", "chat.v2, chat.v1")]));
        assert!(
            offer
                .check(&response(&[("Sec-WebSocket-Protocol", "chat.v1")]), "u")
                .is_ok()
        );
        assert!(offer.check(&response(&[]), "u").is_ok());
        let error = offer
            .check(
                &response(&[("Sec-WebSocket-Protocol", "chat.v3")]),
                "ws://h/",
            )
            .unwrap_err();
        assert!(
            matches!(&error, Error::UnofferedSubprotocol { subprotocol, .. } if subprotocol == "chat.v3"),
            "{error:?}"
        );
        let none = Offer::of(&request(&[]));
        assert!(
            none.check(&response(&[("Sec-WebSocket-Protocol", "x")]), "u")
                .is_err()
        );
    }

    #[test]
    fn the_budget_leaves_a_margin_to_the_supervisor() {
        let budget = Budget::new(Duration::from_millis(200));
        assert!(budget.remaining() <= Duration::from_millis(180));
        let long = Budget::new(Duration::from_secs(10));
        assert!(long.remaining() <= Duration::from_millis(9750));
        assert!(long.remaining() > Duration::from_secs(9));
    }

    #[test]
    fn within_returns_the_output_or_none_at_the_deadline() {
        fn block<F: Future>(future: F) -> F::Output {
            let mut future = std::pin::pin!(future);
            match future
                .as_mut()
                .poll(&mut Context::from_waker(std::task::Waker::noop()))
            {
                Poll::Ready(v) => v,
                Poll::Pending => panic!("pending"),
            }
        }
        assert_eq!(
            block(within(std::future::ready(1), std::future::pending::<()>())),
            Some(1)
        );
        assert_eq!(
            block(within(std::future::pending::<u8>(), std::future::ready(()))),
            None
        );
    }
}
