//! Invalid UTF-8 found as soon as it arrives, not once its frame is complete.
//!
//! tungstenite checks a text message's encoding when a whole frame is in: a server that sends
//! the first half of a frame holding an invalid sequence, then stalls, keeps the client
//! waiting with a message that can only fail. RFC 6455 §8.1 asks a client to fail such a
//! connection as soon as it sees the bad bytes ("fail fast"; Autobahn's cases 6.4.3 and 6.4.4
//! check it). [`FailFastUtf8`] is the sans-IO check an adapter puts between the byte stream
//! and tungstenite: it follows the server's frames byte by byte (after the HTTP response
//! head), checks text payloads as they come, and says how many of the bytes just read may be
//! handed on. The bytes before an invalid sequence still go to tungstenite, so the messages
//! that came before it are delivered; the next read then fails with [`FailFastUtf8::error`],
//! which the driver reports as invalid UTF-8 and answers with Close 1007.
//!
//! It only ever looks: anything it does not understand (reserved bits, reserved opcodes, a
//! masked frame, a continuation with nothing to continue) is a protocol error tungstenite will
//! report itself, so the check stands aside for good rather than guess.

use std::fmt;
use std::io;

/// The longest frame header from a server: 2 bytes, an 8-byte length, a 4-byte mask key.
const MAX_HEADER: usize = 14;

/// Follows the bytes read from a server and finds invalid UTF-8 in text messages as it
/// arrives, so the client can fail the connection at once (RFC 6455 §8.1) instead of waiting
/// for the rest of a frame that can only fail.
///
/// An adapter wraps the stream it hands to tungstenite's handshake (above TLS, so the check
/// sees plain bytes from the HTTP response on) and runs every read through it:
///
/// ```text
/// check.before_read()?;            // fails every read once tripped
/// let n = inner.read(buf)?;
/// let kept = check.after_read(&buf[..n])?;
/// Ok(kept)                         // the bytes before an invalid sequence still go on
/// ```
#[derive(Clone, Debug)]
pub struct FailFastUtf8 {
    stage: Stage,
    /// The kind of the fragmented message in progress, if any.
    message: Option<Kind>,
    /// The start of a code point split across reads or frames.
    pending: Pending,
    /// An invalid sequence was found: every later read fails.
    tripped: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

#[derive(Clone, Debug)]
enum Stage {
    /// In the HTTP response head: how far into a blank line (`\n`, then an optional `\r`).
    Head(u8),
    /// Collecting a frame header.
    Header { bytes: [u8; MAX_HEADER], len: usize },
    /// In a frame's payload.
    Payload {
        remaining: u64,
        /// Whether the payload is text (a text frame, or a continuation of one).
        text: bool,
        /// Whether this frame ends its message.
        fin: bool,
    },
    /// Something tungstenite will refuse: no more checking.
    Aside,
}

/// Up to three bytes of a code point whose rest has not arrived.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    bytes: [u8; 4],
    len: usize,
}

impl Default for FailFastUtf8 {
    fn default() -> Self {
        Self::new()
    }
}

impl FailFastUtf8 {
    /// A check for a new connection, whose first bytes are the HTTP response head.
    pub fn new() -> Self {
        FailFastUtf8 {
            stage: Stage::Head(0),
            message: None,
            pending: Pending::default(),
            tripped: false,
        }
    }

    /// Whether an invalid sequence was found: the caller's reads fail from now on.
    pub fn tripped(&self) -> bool {
        self.tripped
    }

    /// The error a read returns once the check has tripped: tungstenite hands it to the
    /// driver, which reports [`Error::InvalidUtf8`](crate::Error::InvalidUtf8).
    pub fn error() -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, InvalidUtf8Stream)
    }

    /// Call before each read: `Err(`[`error`](Self::error)`)` once the check has tripped,
    /// instead of reading.
    pub fn before_read(&self) -> io::Result<()> {
        if self.tripped {
            return Err(Self::error());
        }
        Ok(())
    }

    /// Call with the bytes each read returned: how many of them to hand on, or the error to
    /// return instead when none of them may go (a read that hands on nothing would read as
    /// the end of the stream).
    pub fn after_read(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self.inspect(bytes) {
            0 if !bytes.is_empty() => Err(Self::error()),
            kept => Ok(kept),
        }
    }

    /// Follows `bytes`, just read, and returns how many of them may be handed on: all of
    /// them, or those before an invalid sequence (then the check has tripped, and the next
    /// read must fail with [`error`](Self::error) instead of reading).
    pub fn inspect(&mut self, bytes: &[u8]) -> usize {
        if self.tripped {
            return 0;
        }
        let mut at = 0;
        while at < bytes.len() {
            match &mut self.stage {
                Stage::Aside => return bytes.len(),
                Stage::Head(blank) => {
                    let byte = bytes[at];
                    at += 1;
                    *blank = match (byte, *blank) {
                        (b'\n', 1 | 2) => {
                            self.stage = Stage::Header {
                                bytes: [0; MAX_HEADER],
                                len: 0,
                            };
                            continue;
                        }
                        (b'\n', _) => 1,
                        (b'\r', 1) => 2,
                        _ => 0,
                    };
                }
                Stage::Header { bytes: header, len } => {
                    header[*len] = bytes[at];
                    *len += 1;
                    at += 1;
                    if *len >= header_len(&header[..*len]) {
                        let header = *header;
                        let len = *len;
                        self.stage = self.frame(&header[..len]);
                    }
                }
                Stage::Payload {
                    remaining,
                    text,
                    fin,
                } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len() - at);
                    let chunk = &bytes[at..at + take];
                    if *text && let Err(offset) = self.pending.feed(chunk) {
                        self.tripped = true;
                        return at + offset;
                    }
                    *remaining -= take as u64;
                    at += take;
                    if *remaining == 0 {
                        let (text, fin) = (*text, *fin);
                        self.end_of_frame(text, fin);
                    }
                }
            }
        }
        // A header that announces an empty payload ends its frame at once.
        if let Stage::Payload {
            remaining: 0,
            text,
            fin,
        } = self.stage
        {
            self.end_of_frame(text, fin);
        }
        bytes.len()
    }

    /// The stage after a complete frame header.
    fn frame(&mut self, header: &[u8]) -> Stage {
        let fin = header[0] & 0x80 != 0;
        let reserved = header[0] & 0x70 != 0;
        let opcode = header[0] & 0x0f;
        let masked = header[1] & 0x80 != 0;
        if reserved || masked {
            return Stage::Aside;
        }
        let remaining = match header[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([header[2], header[3]])),
            127 => u64::from_be_bytes(header[2..10].try_into().unwrap_or_default()),
            short => u64::from(short),
        };
        let text = match (opcode, self.message) {
            // Control frames may come between fragments and end nothing.
            (0x8..=0xa, _) => {
                return Self::payload(remaining, false, false);
            }
            (0x1, None) => Kind::Text,
            (0x2, None) => Kind::Binary,
            (0x0, Some(kind)) => kind,
            _ => return Stage::Aside,
        };
        self.message = if fin { None } else { Some(text) };
        Self::payload(remaining, text == Kind::Text, fin)
    }

    fn payload(remaining: u64, text: bool, fin: bool) -> Stage {
        Stage::Payload {
            remaining,
            text,
            fin,
        }
    }

    fn end_of_frame(&mut self, text: bool, fin: bool) {
        if text && fin {
            // A code point cut off by the end of the message: tungstenite reports it now.
            self.pending = Pending::default();
        }
        self.stage = Stage::Header {
            bytes: [0; MAX_HEADER],
            len: 0,
        };
    }
}

/// How long a header is, as far as its first bytes tell (at least 2).
fn header_len(header: &[u8]) -> usize {
    let Some(&second) = header.get(1) else {
        return 2;
    };
    let length = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    2 + length + mask
}

impl Pending {
    /// Checks the next `bytes` of a text payload; `Err` with the offset of the first byte
    /// that cannot be valid UTF-8 (or of the sequence it ends).
    fn feed(&mut self, mut bytes: &[u8]) -> Result<(), usize> {
        let mut offset = 0;
        if self.len > 0 {
            let width = match self.bytes[0] {
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            let take = (width - self.len).min(bytes.len());
            self.bytes[self.len..self.len + take].copy_from_slice(&bytes[..take]);
            match std::str::from_utf8(&self.bytes[..self.len + take]) {
                Ok(_) => self.len = 0,
                Err(error) if error.error_len().is_some() => return Err(0),
                Err(_) => {
                    self.len += take;
                    return Ok(());
                }
            }
            bytes = &bytes[take..];
            offset = take;
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => Ok(()),
            Err(error) if error.error_len().is_some() => Err(offset + error.valid_up_to()),
            Err(error) => {
                let rest = &bytes[error.valid_up_to()..];
                self.bytes[..rest.len()].copy_from_slice(rest);
                self.len = rest.len();
                Ok(())
            }
        }
    }
}

/// The payload of [`FailFastUtf8::error`]: how the driver tells it from other I/O errors.
#[derive(Debug)]
pub(crate) struct InvalidUtf8Stream;

impl fmt::Display for InvalidUtf8Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8 in a text message (found before its frame was complete)")
    }
}

impl std::error::Error for InvalidUtf8Stream {}

#[cfg(test)]
mod tests;
