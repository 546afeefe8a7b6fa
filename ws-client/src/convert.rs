//! Moving payloads between tungstenite and ws-core without copying them.
//!
//! Both sides hold payloads in [`Bytes`], so a received message reaches the application as the
//! very buffer tungstenite read it into, and an application message reaches tungstenite's
//! frame encoder untouched (the encoder must copy it once anyway, to mask it).

use bytes::{Bytes, BytesMut};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::Frame as WireFrame;
use tungstenite::protocol::frame::coding::{CloseCode as WireCloseCode, Data, OpCode};
use tungstenite::{Message as WireMessage, Utf8Bytes};
use ws_core::{CloseCode, Frame, Message, PingPayload, Text};

/// What the driver read, as the core sees it.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub(crate) enum Inbound {
    /// A message or control frame for [`Input::Frame`](ws_core::Input::Frame).
    Frame(Frame),
    /// The peer's Close, for [`Input::Closed`](ws_core::Input::Closed).
    Close {
        /// The peer's code, [`CloseCode::NO_STATUS`] when its frame had none.
        code: CloseCode,
        /// The peer's reason.
        reason: Text,
    },
    /// Nothing for the core (a raw frame, which tungstenite never returns from a read).
    Nothing,
}

/// Converts a message read by tungstenite.
///
/// Text is re-checked as UTF-8 by [`Text::from_utf8`] (tungstenite already validated it, but
/// ws-core has no unchecked constructor without `unsafe`): a linear scan, never a copy.
pub(crate) fn inbound(message: WireMessage) -> Inbound {
    match message {
        WireMessage::Text(text) => match Text::from_utf8(Bytes::from(text)) {
            Ok(text) => Inbound::Frame(Frame::Text(text)),
            Err(_) => Inbound::Nothing,
        },
        WireMessage::Binary(bytes) => Inbound::Frame(Frame::Binary(bytes)),
        WireMessage::Ping(bytes) => Inbound::Frame(Frame::Ping(bytes)),
        WireMessage::Pong(bytes) => Inbound::Frame(Frame::Pong(bytes)),
        WireMessage::Close(frame) => match frame {
            Some(CloseFrame { code, reason }) => Inbound::Close {
                code: CloseCode(u16::from(code)),
                reason: Text::from_utf8(Bytes::from(reason)).unwrap_or_default(),
            },
            None => Inbound::Close {
                code: CloseCode::NO_STATUS,
                reason: Text::new(),
            },
        },
        WireMessage::Frame(_) => Inbound::Nothing,
    }
}

/// Converts an application message for writing.
///
/// Text goes out as a raw text frame built from its bytes: ws-core's [`Text`] is already
/// valid UTF-8, and this avoids tungstenite's checked `Utf8Bytes` constructor scanning it
/// again.
pub(crate) fn outbound(message: Message) -> WireMessage {
    match message {
        Message::Text(text) => WireMessage::Frame(WireFrame::message(
            text.into_bytes(),
            OpCode::Data(Data::Text),
            true,
        )),
        Message::Binary(bytes) => WireMessage::Binary(bytes),
    }
}

/// A heartbeat Ping carrying the core's sequence number, written into `buffer`: the ping's
/// bytes share its allocation, which `reserve` takes back once the previous ping was written
/// and dropped, so the steady state allocates nothing for heartbeats.
pub(crate) fn ping(payload: PingPayload, buffer: &mut BytesMut) -> WireMessage {
    let bytes = payload.as_bytes();
    buffer.reserve(bytes.len());
    buffer.extend_from_slice(bytes);
    WireMessage::Ping(buffer.split().freeze())
}

/// A Close frame with `code` and `reason` (the core has checked both).
pub(crate) fn close(code: CloseCode, reason: Text) -> WireMessage {
    // At most 123 bytes, already UTF-8: the check cannot fail and costs nothing.
    let reason = Utf8Bytes::try_from(reason.into_bytes()).unwrap_or_default();
    WireMessage::Close(Some(CloseFrame {
        code: WireCloseCode::from(code.0),
        reason,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_payloads_are_moved_not_copied() {
        let payload = Bytes::from(vec![7u8; 1024]);
        let address = payload.as_ptr();
        let Inbound::Frame(Frame::Binary(received)) = inbound(WireMessage::Binary(payload)) else {
            panic!("binary expected");
        };
        assert_eq!(received.as_ptr(), address);

        let text = Utf8Bytes::from(String::from("héllo wörld"));
        let address = text.as_str().as_ptr();
        let Inbound::Frame(Frame::Text(received)) = inbound(WireMessage::Text(text)) else {
            panic!("text expected");
        };
        assert_eq!(
            (received.as_str(), received.as_bytes().as_ptr()),
            ("héllo wörld", address)
        );
    }

    #[test]
    fn sent_payloads_are_moved_not_copied() {
        let text = Text::from(String::from("hello"));
        let address = text.as_bytes().as_ptr();
        let WireMessage::Frame(frame) = outbound(Message::Text(text)) else {
            panic!("frame expected");
        };
        assert_eq!(frame.header().opcode, OpCode::Data(Data::Text));
        assert_eq!(
            (frame.payload(), frame.payload().as_ptr()),
            (&b"hello"[..], address)
        );
    }

    #[test]
    fn close_frames_both_ways() {
        assert_eq!(
            inbound(WireMessage::Close(None)),
            Inbound::Close {
                code: CloseCode::NO_STATUS,
                reason: Text::new()
            }
        );
        let WireMessage::Close(Some(frame)) = close(CloseCode(4001), Text::from("bye")) else {
            panic!("close expected");
        };
        assert_eq!(
            (u16::from(frame.code), frame.reason.as_str()),
            (4001, "bye")
        );
        assert_eq!(
            inbound(WireMessage::Close(Some(frame))),
            Inbound::Close {
                code: CloseCode(4001),
                reason: Text::from("bye")
            }
        );
    }
}
