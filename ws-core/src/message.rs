//! Payloads: what the application sends and receives, and what the driver reads.
//!
//! Payloads are [`Bytes`], the type tungstenite uses too, so a message travels from the socket
//! to the application (and back) by moving a reference-counted buffer, never by copying it.

use core::fmt;
use core::str::Utf8Error;

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

/// UTF-8 text held in [`Bytes`]: cheap to clone, cheap to move, validated once at construction.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Bytes);

impl Text {
    /// Empty text, without allocating.
    pub const fn new() -> Self {
        Text(Bytes::new())
    }

    /// Text from a static string, without allocating.
    pub const fn from_static(text: &'static str) -> Self {
        Text(Bytes::from_static(text.as_bytes()))
    }

    /// Checks that `bytes` is UTF-8 and wraps it without copying.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, Utf8Error> {
        core::str::from_utf8(&bytes)?;
        Ok(Text(bytes))
    }

    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        // The constructors are the only way in and each one guarantees UTF-8; the fallback is
        // unreachable but keeps this total without `unsafe`.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying buffer, without copying.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

/// Copies the text into a new buffer, so any `&str` works (a borrowed `String`, a slice of a
/// larger buffer). For a string literal, [`Text::from_static`] avoids the copy; for an owned
/// `String`, `From<String>` moves it.
impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(Bytes::copy_from_slice(text.as_bytes()))
    }
}

/// Copies, like `From<&str>`; it exists so that `Text::from(&my_string)` compiles.
impl From<&String> for Text {
    fn from(text: &String) -> Self {
        Text::from(text.as_str())
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(Bytes::from(text.into_bytes()))
    }
}

impl TryFrom<Bytes> for Text {
    type Error = Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Utf8Error> {
        Text::from_utf8(bytes)
    }
}

impl TryFrom<Vec<u8>> for Text {
    type Error = Utf8Error;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Utf8Error> {
        Text::from_utf8(Bytes::from(bytes))
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An application message: what `send()` takes and what [`Event::Message`](crate::Event) gives.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message (a WebSocket text frame sequence).
    Text(Text),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// Payload length in bytes: what counts against the queue's byte limit.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload bytes, whatever the kind.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            Message::Binary(_) => None,
        }
    }
}

impl From<Text> for Message {
    fn from(text: Text) -> Self {
        Message::Text(text)
    }
}

/// A text message holding a copy of `text` (see [`Text`]'s `From<&str>`; for a literal,
/// `Message::Text(Text::from_static(..))` avoids the copy).
impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(Text::from(text))
    }
}

/// A text message holding a copy of `text`, so that `Message::from(&my_string)` compiles.
impl From<&String> for Message {
    fn from(text: &String) -> Self {
        Message::Text(Text::from(text.as_str()))
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(Text::from(text))
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Message::Binary(bytes)
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(Bytes::from(bytes))
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Text(text) => f.debug_tuple("Text").field(text).finish(),
            Message::Binary(bytes) => write!(f, "Binary({} bytes)", bytes.len()),
        }
    }
}

/// A frame the driver read from the transport (close frames are [`Input::Closed`](crate::Input)).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Frame {
    /// A complete text message.
    Text(Text),
    /// A complete binary message.
    Binary(Bytes),
    /// A protocol Ping from the peer. The driver's WebSocket library answers it; the core only
    /// counts it as a sign of life.
    Ping(Bytes),
    /// A protocol Pong from the peer.
    Pong(Bytes),
}

impl From<Message> for Frame {
    fn from(message: Message) -> Self {
        match message {
            Message::Text(text) => Frame::Text(text),
            Message::Binary(bytes) => Frame::Binary(bytes),
        }
    }
}

/// The payload of a heartbeat Ping the core asks the driver to send: a big-endian sequence
/// number, so the matching Pong can be recognised and the round trip measured.
///
/// It is a fixed array rather than [`Bytes`] so that the core allocates nothing per heartbeat.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PingPayload([u8; 8]);

impl PingPayload {
    pub(crate) fn from_sequence(sequence: u64) -> Self {
        PingPayload(sequence.to_be_bytes())
    }

    /// The sequence number, if `payload` is one of ours.
    pub(crate) fn sequence_of(payload: &[u8]) -> Option<u64> {
        let array: [u8; 8] = payload.try_into().ok()?;
        Some(u64::from_be_bytes(array))
    }

    /// The heartbeat's sequence number.
    pub fn sequence(&self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// The bytes to put in the Ping frame.
    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rejects_invalid_utf8() {
        assert!(Text::from_utf8(Bytes::from_static(&[0xff, 0xfe])).is_err());
        let text = Text::from_utf8(Bytes::from_static("héllo".as_bytes())).unwrap();
        assert_eq!(text.as_str(), "héllo");
        assert_eq!(text.len(), 6);
    }

    #[test]
    fn text_and_message_from_any_str() {
        let owned = alloc::string::String::from("héllo");
        let from_ref = Text::from(&owned);
        let from_slice = Message::from(owned.as_str());
        assert_eq!(from_ref.as_str(), "héllo");
        assert_eq!(from_slice, Message::Text(from_ref.clone()));
        assert_eq!(Message::from(&owned).as_text(), Some("héllo"));
        assert_eq!(Text::from(&owned[1..3]).as_str(), "é");
        // A literal through `From` is a copy; `from_static` is not, and both compare equal.
        assert_eq!(Text::from("pong"), Text::from_static("pong"));
        // An owned String is moved, not copied.
        let string = alloc::string::String::from("moved");
        let address = string.as_ptr();
        assert_eq!(Text::from(string).as_bytes().as_ptr(), address);
    }

    #[test]
    fn ping_payload_round_trips_its_sequence() {
        let ping = PingPayload::from_sequence(0x0102_0304_0506_0708);
        assert_eq!(ping.as_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            PingPayload::sequence_of(ping.as_bytes()),
            Some(ping.sequence())
        );
        assert_eq!(PingPayload::sequence_of(b"short"), None);
    }
}
