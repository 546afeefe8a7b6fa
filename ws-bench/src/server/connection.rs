//! One server connection: the opening handshake, then the echo loop over raw frames.
//!
//! The loop reads whatever the socket has (straight into the spare capacity of a reused
//! buffer, never zero-filled), unmasks every complete frame in place, appends its echo (the
//! same first byte, the length without a mask) to the output buffer, and writes the whole
//! batch with one call. Pings are answered with a Pong of the same payload, a Close is echoed
//! and ends the connection, Pongs are ignored. Text is not validated: the clients check
//! every echo byte for byte.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Initial size of each connection's input and output buffers. They grow to the largest
/// frame seen and are reused from then on.
const INITIAL_BUFFER: usize = 4096;
/// Spare room guaranteed before every read.
const MIN_READ: usize = 4096;
/// The largest handshake request accepted.
const MAX_REQUEST: usize = 16 * 1024;
/// Frames larger than this end the connection (the benchmark sends at most 64 KiB).
const MAX_FRAME: u64 = 16 * 1024 * 1024;
/// The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask.
const MAX_HEADER: usize = 14;

const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// Serves one connection until the peer closes it or an error occurs.
pub(super) async fn serve(mut tcp: TcpStream) {
    let _ = serve_inner(&mut tcp).await;
}

async fn serve_inner(tcp: &mut TcpStream) -> io::Result<()> {
    let mut input = Vec::with_capacity(INITIAL_BUFFER);
    if !handshake(tcp, &mut input).await? {
        return Ok(());
    }
    let mut output = Vec::with_capacity(INITIAL_BUFFER);
    loop {
        let mut start = 0;
        let mut needed = 0;
        while start < input.len() {
            let Some(frame) = Header::parse(&input[start..])? else {
                needed = MAX_HEADER;
                break;
            };
            let end = start + frame.total();
            if input.len() < end {
                needed = frame.total();
                break;
            }
            let payload = &mut input[start + frame.size..end];
            if let Some(key) = frame.mask {
                unmask(payload, key);
            }
            match frame.first_byte & 0x0F {
                OP_PONG => {}
                OP_PING => encode(&mut output, 0x80 | OP_PONG, payload),
                OP_CLOSE => {
                    encode(&mut output, 0x80 | OP_CLOSE, payload);
                    tcp.write_all(&output).await?;
                    tcp.shutdown().await?;
                    return Ok(());
                }
                _ => encode(&mut output, frame.first_byte, payload),
            }
            start = end;
        }
        if !output.is_empty() {
            tcp.write_all(&output).await?;
            output.clear();
        }
        // Keep the incomplete frame, at the front.
        input.copy_within(start.., 0);
        input.truncate(input.len() - start);
        input.reserve(needed.saturating_sub(input.len()).max(MIN_READ));
        if tcp.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
    }
}

/// Reads the HTTP upgrade request and answers 101. Leaves any bytes that followed the
/// request in `input`. `false` if the peer left first.
async fn handshake(tcp: &mut TcpStream, input: &mut Vec<u8>) -> io::Result<bool> {
    loop {
        if let Some(end) = input.windows(4).position(|w| w == b"\r\n\r\n") {
            let request = String::from_utf8_lossy(&input[..end]);
            let key = request
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-key"))
                .map(|(_, value)| value.trim().to_owned())
                .ok_or_else(|| io::Error::other("no Sec-WebSocket-Key"))?;
            let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
            let response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            );
            tcp.write_all(response.as_bytes()).await?;
            input.drain(..end + 4);
            return Ok(true);
        }
        if input.len() > MAX_REQUEST {
            return Err(io::Error::other("handshake request too large"));
        }
        input.reserve(1024);
        if tcp.read_buf(input).await? == 0 {
            return Ok(false);
        }
    }
}

/// A frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    /// FIN, RSV and opcode, echoed as they came.
    first_byte: u8,
    size: usize,
    payload_len: usize,
    mask: Option<[u8; 4]>,
}

impl Header {
    /// The header at the start of `bytes`, or `None` if it is not all there yet.
    fn parse(bytes: &[u8]) -> io::Result<Option<Header>> {
        if bytes.len() < 2 {
            return Ok(None);
        }
        let masked = bytes[1] & 0x80 != 0;
        let (length, mut size) = match bytes[1] & 0x7F {
            126 if bytes.len() >= 4 => (u64::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 if bytes.len() >= 10 => {
                let mut be = [0; 8];
                be.copy_from_slice(&bytes[2..10]);
                (u64::from_be_bytes(be), 10)
            }
            126 | 127 => return Ok(None),
            short => (u64::from(short), 2),
        };
        if length > MAX_FRAME {
            return Err(io::Error::other("frame too large"));
        }
        let mask = if masked {
            if bytes.len() < size + 4 {
                return Ok(None);
            }
            let mut key = [0; 4];
            key.copy_from_slice(&bytes[size..size + 4]);
            size += 4;
            Some(key)
        } else {
            None
        };
        Ok(Some(Header {
            first_byte: bytes[0],
            size,
            payload_len: length as usize,
            mask,
        }))
    }

    fn total(&self) -> usize {
        self.size + self.payload_len
    }
}

/// Appends an unmasked frame with `first_byte` and `payload` to `output`.
fn encode(output: &mut Vec<u8>, first_byte: u8, payload: &[u8]) {
    output.push(first_byte);
    match payload.len() {
        len @ 0..=125 => output.push(len as u8),
        len @ 126..=0xFFFF => {
            output.push(126);
            output.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            output.push(127);
            output.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    output.extend_from_slice(payload);
}

/// XORs `payload` with the repeating 4-byte `key`, eight bytes at a time.
fn unmask(payload: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so its key phase is 0.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmask_matches_the_bytewise_definition() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for len in [0, 1, 7, 8, 9, 20, 1000] {
            let original: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut fast = original.clone();
            unmask(&mut fast, key);
            let slow: Vec<u8> = original
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4])
                .collect();
            assert_eq!(fast, slow, "{len}");
        }
    }

    #[test]
    fn headers_of_every_length_form_round_trip() {
        for len in [0, 125, 126, 65_535, 65_536] {
            let payload = vec![7; len];
            let mut frame = Vec::new();
            encode(&mut frame, 0x82, &payload);
            let header = Header::parse(&frame).unwrap().unwrap();
            assert_eq!((header.first_byte, header.payload_len), (0x82, len));
            assert_eq!(header.total(), frame.len());
            assert_eq!(header.mask, None);
            assert_eq!(Header::parse(&frame[..header.size - 1]).unwrap(), None);
        }
        let masked = [0x81, 0x80 | 5, 1, 2, 3, 4];
        let header = Header::parse(&masked).unwrap().unwrap();
        assert_eq!((header.size, header.mask), (6, Some([1, 2, 3, 4])));
        assert_eq!(Header::parse(&masked[..5]).unwrap(), None);
    }
}
