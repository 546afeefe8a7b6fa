//! One browser `WebSocket` and its three event handlers, reporting to the driver under the
//! connection id the supervisor gave it.

use bytes::Bytes;
use js_sys::{Array, ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use ws_core::{CloseCode, ConnectionId, Message, Text};

use super::{Link, defer_drop};
use crate::close::BrowserClose;

/// The event handlers; they live as long as the socket is the driver's.
struct Handlers {
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(CloseEvent)>,
}

/// A `WebSocket` the supervisor knows as `connection`.
pub(crate) struct Socket {
    pub(crate) connection: ConnectionId,
    websocket: WebSocket,
    handlers: Handlers,
}

impl Socket {
    /// `new WebSocket(url, protocols)` with `binaryType = "arraybuffer"`. The error is the
    /// browser's exception, for a URL or port it refuses.
    pub(crate) fn open(
        url: &str,
        protocols: &[String],
        link: &Link,
        connection: ConnectionId,
    ) -> Result<Socket, String> {
        let socket = if protocols.is_empty() {
            WebSocket::new(url)
        } else {
            let list: Array = protocols
                .iter()
                .map(|p| wasm_bindgen::JsValue::from_str(p))
                .collect();
            WebSocket::new_with_str_sequence(url, &list)
        }
        .map_err(|exception| describe(&exception))?;
        // Binary messages arrive as one ArrayBuffer, copied once into wasm memory; a Blob
        // would need an extra asynchronous read.
        socket.set_binary_type(BinaryType::Arraybuffer);

        let (on_open, source) = (link.clone(), socket.clone());
        let open = Closure::<dyn FnMut()>::new(move || {
            on_open.with(|session, now| session.opened(connection, &source.protocol(), now));
        });
        let on_message = link.clone();
        let message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(message) = inbound(&event.data()) {
                on_message.with(|session, now| session.received(connection, message, now));
            }
        });
        let on_close = link.clone();
        let close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let close = BrowserClose {
                code: event.code(),
                reason: event.reason(),
                was_clean: event.was_clean(),
            };
            on_close.socket_closed(connection, close);
        });
        socket.set_onopen(Some(open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(close.as_ref().unchecked_ref()));
        Ok(Socket {
            connection,
            websocket: socket,
            handlers: Handlers {
                _open: open,
                _message: message,
                _close: close,
            },
        })
    }

    /// Sends a message: the browser copies the bytes (text is re-encoded for JavaScript,
    /// binary passes as a view of wasm memory). A socket that is already closing discards it,
    /// as a socket whose peer vanished would: the supervisor counts it as sent.
    pub(crate) fn send(&self, message: &Message) {
        let sent = match message {
            Message::Text(text) => self.websocket.send_with_str(text.as_str()),
            Message::Binary(bytes) => self.websocket.send_with_u8_array(bytes),
        };
        // Throws only while CONNECTING, which the supervisor never sends in.
        debug_assert!(sent.is_ok());
    }

    /// Starts the close handshake. The code and reason were checked against the browser's
    /// rules, so this does not throw.
    pub(crate) fn close(&self, code: CloseCode, reason: &Text) {
        let _ = self
            .websocket
            .close_with_code_and_reason(code.0, reason.as_str());
    }

    /// Drops the socket without waiting for anything: a page cannot drop a TCP connection,
    /// so the handlers are detached and the browser is told to close it (it fails a socket
    /// still connecting, and runs the close handshake of an open one in the background).
    pub(crate) fn abort(self) {
        let _ = self.websocket.close();
        self.detach();
    }

    /// Detaches the handlers (the socket is finished, or being aborted).
    pub(crate) fn detach(self) {
        self.websocket.set_onopen(None);
        self.websocket.set_onmessage(None);
        self.websocket.set_onclose(None);
        // The handler running right now may be one of these: free them after it returns.
        defer_drop(self.handlers);
    }
}

/// A `message` event's data as a message: a string is text, an `ArrayBuffer` is binary.
fn inbound(data: &wasm_bindgen::JsValue) -> Option<Message> {
    if let Some(text) = data.as_string() {
        return Some(Message::Text(Text::from(text)));
    }
    let buffer = data.dyn_ref::<ArrayBuffer>()?;
    Some(Message::Binary(Bytes::from(
        Uint8Array::new(buffer).to_vec(),
    )))
}

/// A JavaScript exception as text.
pub(crate) fn describe(exception: &wasm_bindgen::JsValue) -> String {
    if let Some(error) = exception.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    exception
        .as_string()
        .unwrap_or_else(|| format!("{exception:?}"))
}
