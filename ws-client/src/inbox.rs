//! Small received payloads, copied out of tungstenite's read buffer into buffers of our own.
//!
//! tungstenite hands a message out as a slice of its read buffer, and can read into that
//! buffer again only once every slice of it is dropped; until then each refill allocates a
//! new buffer. A raw client drops each message before its next read, but the driver reads
//! ahead: with several messages in flight, a pass reads many frames while the earlier ones
//! wait in the event queue, and every refill allocated (0.9 per 1 KiB message with 16 in
//! flight). A copy into a buffer of our own leaves tungstenite's reusable at once.
//!
//! Ours are two buffers used in turn, each taken back (without allocating) once every
//! message copied into it is dropped: by the time the one in use is full, the application
//! has usually read the other one's messages, so the steady state allocates nothing. When it
//! has not, the new buffer is twice as large (up to [`MAX_CHUNK`]), until one holds what the
//! application leaves unread between two turns.
//!
//! Only payloads up to the read buffer's size (at most [`MAX_COPY`]) are copied: a larger one
//! takes tungstenite's buffer past its size anyway, and copying it would cost more than it
//! saves. The buffers
//! are let go when a heartbeat (a Ping or Pong) finds no message copied since the previous
//! one, so an idle connection keeps nothing here.

use bytes::{Bytes, BytesMut};
use tungstenite::{Message as WireMessage, Utf8Bytes};

/// The largest payload copied, whatever the read buffer's size.
const MAX_COPY: usize = 16 * 1024;

/// The largest buffer allocated; past it, a lagging application costs one allocation per
/// buffer's worth of messages.
const MAX_CHUNK: usize = 64 * 1024;

pub(crate) struct Inbox {
    /// Payloads up to this size are copied (the read buffer's size).
    limit: usize,
    /// Boxed, and only while in use: the driver carries an idle connection's inbox inline.
    buffers: Option<Box<Buffers>>,
}

struct Buffers {
    current: BytesMut,
    spare: BytesMut,
    /// The size of the next buffer allocated.
    chunk: usize,
    /// A payload was copied since the last heartbeat.
    used: bool,
}

impl Inbox {
    /// An inbox for a connection whose read buffer holds `read_buffer_size` bytes.
    pub(crate) fn new(read_buffer_size: usize) -> Self {
        Inbox {
            limit: read_buffer_size.min(MAX_COPY),
            buffers: None,
        }
    }

    /// `message`, its payload copied if it is small.
    pub(crate) fn adopt(&mut self, message: WireMessage) -> WireMessage {
        match message {
            WireMessage::Binary(bytes) if bytes.len() <= self.limit => {
                WireMessage::Binary(self.copy(&bytes))
            }
            WireMessage::Text(text) if text.len() <= self.limit => {
                // Valid UTF-8 already; the check only satisfies `Utf8Bytes`' constructor.
                match Utf8Bytes::try_from(self.copy(text.as_bytes())) {
                    Ok(copy) => WireMessage::Text(copy),
                    Err(_) => WireMessage::Text(text),
                }
            }
            WireMessage::Ping(_) | WireMessage::Pong(_) => {
                if let Some(buffers) = &mut self.buffers {
                    if buffers.used {
                        buffers.used = false;
                    } else {
                        self.buffers = None;
                    }
                }
                message
            }
            message => message,
        }
    }

    fn copy(&mut self, payload: &[u8]) -> Bytes {
        if payload.is_empty() {
            return Bytes::new();
        }
        let buffers = self.buffers.get_or_insert_with(|| {
            Box::new(Buffers {
                current: BytesMut::new(),
                spare: BytesMut::new(),
                chunk: (2 * self.limit).min(MAX_CHUNK),
                used: false,
            })
        });
        buffers.used = true;
        let Buffers {
            current,
            spare,
            chunk,
            ..
        } = buffers.as_mut();
        if current.capacity() < payload.len() && !current.try_reclaim(payload.len()) {
            std::mem::swap(current, spare);
            if !current.try_reclaim(payload.len()) {
                // Both still hold unread messages: the old one goes once they are dropped.
                *current = BytesMut::with_capacity((*chunk).max(payload.len()));
                *chunk = (2 * *chunk).min(MAX_CHUNK);
            }
        }
        current.extend_from_slice(payload);
        current.split().freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(inbox: &mut Inbox, payload: &[u8]) -> Bytes {
        match inbox.adopt(WireMessage::Binary(Bytes::copy_from_slice(payload))) {
            WireMessage::Binary(bytes) => bytes,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn small_payloads_are_copied_and_large_ones_moved() {
        let mut inbox = Inbox::new(16);
        let small = Bytes::from(vec![1u8; 16]);
        let large = Bytes::from(vec![2u8; 17]);
        let (small_at, large_at) = (small.as_ptr(), large.as_ptr());
        let WireMessage::Binary(copied) = inbox.adopt(WireMessage::Binary(small.clone())) else {
            panic!("binary expected");
        };
        assert_eq!(
            (copied == small, copied.as_ptr() == small_at),
            (true, false)
        );
        let WireMessage::Binary(moved) = inbox.adopt(WireMessage::Binary(large)) else {
            panic!("binary expected");
        };
        assert_eq!(moved.as_ptr(), large_at);
        let WireMessage::Text(text) = inbox.adopt(WireMessage::Text("héllo".into())) else {
            panic!("text expected");
        };
        assert_eq!(text.as_str(), "héllo");
    }

    #[test]
    fn a_buffer_is_reused_once_its_messages_are_dropped() {
        let mut inbox = Inbox::new(8);
        let first = binary(&mut inbox, b"12345678");
        let start = first.as_ptr();
        drop(first);
        let _ = binary(&mut inbox, b"12345678");
        // The first buffer (16 bytes) was full; with its message dropped it is used again.
        let again = binary(&mut inbox, b"abcdefgh");
        assert_eq!(again.as_ptr(), start);
    }

    #[test]
    fn unread_messages_keep_their_buffer_and_the_next_one_is_larger() {
        let mut inbox = Inbox::new(8);
        let held: Vec<Bytes> = (0..8).map(|i| binary(&mut inbox, &[i; 8])).collect();
        for (i, bytes) in held.iter().enumerate() {
            assert_eq!(bytes.as_ref(), &[i as u8; 8]);
        }
        assert!(inbox.buffers.unwrap().chunk > 16);
    }

    #[test]
    fn a_heartbeat_without_messages_since_the_last_one_lets_the_buffers_go() {
        let mut inbox = Inbox::new(8);
        drop(binary(&mut inbox, b"1"));
        inbox.adopt(WireMessage::Pong(Bytes::new()));
        assert!(inbox.buffers.is_some(), "used since the last heartbeat");
        inbox.adopt(WireMessage::Pong(Bytes::new()));
        assert!(inbox.buffers.is_none());
    }
}
