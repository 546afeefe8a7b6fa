use proptest::prelude::*;

use super::FailFastUtf8;

const HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

/// A server frame (never masked) with `opcode`, `fin` and `payload`.
fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![opcode | if fin { 0x80 } else { 0 }];
    match payload.len() {
        len @ 0..=125 => bytes.push(len as u8),
        len @ 126..=0xffff => {
            bytes.push(126);
            bytes.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            bytes.push(127);
            bytes.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    bytes.extend_from_slice(payload);
    bytes
}

fn after_head() -> FailFastUtf8 {
    let mut check = FailFastUtf8::new();
    assert_eq!(check.inspect(HEAD), HEAD.len());
    check
}

/// Autobahn 6.4.3: one text frame in three reads; the second holds the invalid sequence.
#[test]
fn an_invalid_sequence_is_found_before_its_frame_is_complete() {
    let part1 = [
        0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5,
    ];
    let part2 = [0xf4, 0x90, 0x80, 0x80];
    let mut check = after_head();
    let header = [0x81, 20];
    assert_eq!(check.inspect(&header), 2);
    assert_eq!(check.inspect(&part1), part1.len());
    assert!(!check.tripped());
    assert_eq!(
        check.inspect(&part2),
        0,
        "nothing of the bad sequence goes on"
    );
    assert!(check.tripped());
    assert_eq!(check.inspect(b"edite"), 0, "tripped for good");
    let error = FailFastUtf8::error();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(
        error.to_string(),
        "invalid UTF-8 in a text message (found before its frame was complete)"
    );
}

/// The messages before the bad one still reach tungstenite: only the bytes from the invalid
/// sequence on are held back.
#[test]
fn the_bytes_before_an_invalid_sequence_are_handed_on() {
    let mut check = after_head();
    let mut bytes = frame(0x1, true, "Hello, world!".as_bytes());
    let before = bytes.len();
    bytes.extend(frame(0x1, true, b"ab\xffcd"));
    assert_eq!(check.inspect(&bytes), before + 2 + 2);
    assert!(check.tripped());
}

#[test]
fn a_code_point_split_across_fragments_and_a_ping_between_is_valid() {
    let mut check = after_head();
    let euro = "€".as_bytes();
    let mut bytes = frame(0x1, false, &euro[..1]);
    bytes.extend(frame(0x9, true, b"\xff ping payloads are not text"));
    bytes.extend(frame(0x0, false, &euro[1..2]));
    bytes.extend(frame(0x0, true, &euro[2..]));
    for byte in &bytes {
        assert_eq!(check.inspect(std::slice::from_ref(byte)), 1);
    }
    assert!(!check.tripped());
}

#[test]
fn binary_payloads_and_close_reasons_are_left_to_tungstenite() {
    let mut check = after_head();
    let mut bytes = frame(0x2, false, b"\xff\xfe");
    bytes.extend(frame(0x0, true, b"\xc0"));
    bytes.extend(frame(0x8, true, b"\x03\xe8\xff"));
    assert_eq!(check.inspect(&bytes), bytes.len());
    assert!(!check.tripped());
}

#[test]
fn a_continuation_of_a_text_message_is_text() {
    let mut check = after_head();
    let mut bytes = frame(0x1, false, b"ok");
    bytes.extend(frame(0x0, true, b"\xed\xa0\x80"));
    assert_eq!(check.inspect(&bytes), bytes.len() - 3);
    assert!(check.tripped(), "an encoded surrogate is invalid");
}

#[test]
fn a_head_ending_in_bare_newlines_is_followed() {
    let mut check = FailFastUtf8::new();
    let mut bytes = b"HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n".to_vec();
    let head = bytes.len();
    bytes.extend(frame(0x1, true, b"\xff"));
    assert_eq!(check.inspect(&bytes), head + 2);
}

/// Frames tungstenite refuses for other reasons (a mask, reserved bits, a reserved opcode, a
/// continuation of nothing) are its to report: the check stands aside.
#[test]
fn frames_tungstenite_refuses_anyway_are_left_to_it() {
    for first in [
        vec![0x81, 0x82, 1, 2, 3, 4, 0xff, 0xff],
        frame(0x1 | 0x40, true, b"\xff"),
        frame(0x3, true, b"\xff"),
        frame(0x0, true, b"\xff"),
    ] {
        let mut check = after_head();
        let mut bytes = first.clone();
        bytes.extend(frame(0x1, true, b"\xff"));
        assert_eq!(check.inspect(&bytes), bytes.len(), "{first:x?}");
        assert!(!check.tripped());
    }
}

#[test]
fn lengths_in_two_and_eight_bytes_are_followed() {
    let mut check = after_head();
    let mut bytes = frame(0x2, true, &[0xff; 300]);
    bytes.extend(frame(0x2, true, &vec![0xff; 70_000]));
    let valid = bytes.len();
    bytes.extend(frame(0x1, true, &[b'a'; 200]));
    let bad = bytes.len();
    bytes.extend(frame(0x1, true, b"\xff"));
    assert_eq!(check.inspect(&bytes[..valid]), valid);
    assert_eq!(check.inspect(&bytes[valid..]), bad - valid + 2);
}

#[derive(Clone, Debug)]
enum Piece {
    Text(String, usize),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        (".{0,40}", 1usize..4).prop_map(|(text, fragments)| Piece::Text(text, fragments)),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Piece::Binary),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Piece::Ping),
    ]
}

/// The frames of `pieces`: texts split into fragments at arbitrary byte offsets (inside code
/// points too), with a ping between the first two fragments.
fn frames(pieces: &[Piece]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Text(text, fragments) => {
                let text = text.as_bytes();
                let cuts: Vec<usize> = (0..=*fragments)
                    .map(|i| text.len() * i / fragments)
                    .collect();
                for (i, window) in cuts.windows(2).enumerate() {
                    // Text, then continuations.
                    let opcode = u8::from(i == 0);
                    let fin = i + 1 == *fragments;
                    bytes.extend(frame(opcode, fin, &text[window[0]..window[1]]));
                    if i == 0 && !fin {
                        bytes.extend(frame(0x9, true, b"between"));
                    }
                }
            }
            Piece::Binary(payload) => bytes.extend(frame(0x2, true, payload)),
            Piece::Ping(payload) => bytes.extend(frame(0x9, true, payload)),
        }
    }
    bytes
}

/// Hands `bytes` over in reads of the given sizes; how many were handed on in all.
fn inspect_in_reads(check: &mut FailFastUtf8, bytes: &[u8], sizes: &[usize]) -> usize {
    let mut at = 0;
    let mut handed = 0;
    let mut sizes = sizes.iter().cycle();
    while at < bytes.len() && !check.tripped() {
        let size = (*sizes.next().unwrap()).min(bytes.len() - at);
        handed += check.inspect(&bytes[at..at + size]);
        at += size;
    }
    handed
}

proptest! {
    /// No false alarm: valid frames, however they are split into reads, all go on.
    #[test]
    fn valid_frames_in_any_reads_all_go_on(
        pieces in proptest::collection::vec(piece(), 0..12),
        sizes in proptest::collection::vec(1usize..64, 1..8),
    ) {
        let mut check = after_head();
        let bytes = frames(&pieces);
        prop_assert_eq!(inspect_in_reads(&mut check, &bytes, &sizes), bytes.len());
        prop_assert!(!check.tripped());
    }

    /// An invalid byte in a text message is found where it is: everything before it goes on,
    /// nothing from it on.
    #[test]
    fn an_invalid_byte_in_a_text_is_found_where_it_is(
        before in proptest::collection::vec(piece(), 0..6),
        text in "[a-z€]{0,30}",
        cut in 0usize..31,
        sizes in proptest::collection::vec(1usize..64, 1..8),
    ) {
        let mut check = after_head();
        let mut bytes = frames(&before);
        let text = text.as_bytes();
        let mut cut = cut.min(text.len());
        while cut > 0 && cut < text.len() && text[cut] & 0xc0 == 0x80 {
            cut -= 1;
        }
        let mut payload = text[..cut].to_vec();
        payload.push(0xff);
        payload.extend_from_slice(&text[cut..]);
        let header = frame(0x1, true, &payload).len() - payload.len();
        let bad = bytes.len() + header + cut;
        bytes.extend(frame(0x1, true, &payload));
        prop_assert_eq!(inspect_in_reads(&mut check, &bytes, &sizes), bad);
        prop_assert!(check.tripped());
    }
}

/// The bytes a server sent, for tungstenite to read; what it writes back (Pongs) is dropped.
struct Wire(std::io::Cursor<Vec<u8>>);

impl std::io::Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl std::io::Write for Wire {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether tungstenite, reading `bytes` (whole frames) as a client, fails the connection for
/// the peer's fault (rather than reading to the end of the stream).
fn tungstenite_refuses(bytes: Vec<u8>) -> bool {
    use tungstenite::protocol::{Role, WebSocket};
    let mut socket =
        WebSocket::from_raw_socket(Wire(std::io::Cursor::new(bytes)), Role::Client, None);
    loop {
        match socket.read() {
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return false;
            }
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                return false;
            }
            Err(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            )) => return false,
            Err(_) => return true,
        }
    }
}

/// A frame of any data opcode or a Ping/Pong, final or not, with any payload (random bytes or
/// valid text): what a broken or hostile server might send, but always whole (a Close would
/// end tungstenite's reading, so none is sent).
fn any_frame() -> impl Strategy<Value = Vec<u8>> {
    let opcode = prop_oneof![Just(0x0u8), Just(0x1), Just(0x2), Just(0x9), Just(0xa)];
    let payload = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        ".{0,20}".prop_map(String::into_bytes),
    ];
    (opcode, any::<bool>(), payload).prop_map(|(opcode, fin, payload)| frame(opcode, fin, &payload))
}

proptest! {
    /// No false alarm against the real parser: whenever the check trips on whole frames,
    /// tungstenite, reading the same bytes, fails the connection too (the check only finds
    /// it sooner).
    #[test]
    fn a_trip_is_always_a_connection_tungstenite_fails(
        frames in proptest::collection::vec(any_frame(), 1..10),
        sizes in proptest::collection::vec(1usize..32, 1..6),
    ) {
        let bytes: Vec<u8> = frames.concat();
        let mut check = after_head();
        inspect_in_reads(&mut check, &bytes, &sizes);
        if check.tripped() {
            prop_assert!(tungstenite_refuses(bytes));
        }
    }
}
