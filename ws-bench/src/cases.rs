//! The echo workloads every client runs: how many connections, how large the messages, how
//! many in flight per connection, text or binary.
//!
//! The shapes cover what the adapters must not slow down: a single small round trip (pure
//! per-message overhead and wake-up latency), pipelined small messages (batching), many
//! connections (scheduling), medium and large messages (copies and buffer growth).

use std::fmt;

use serde::Serialize;

/// Text or binary messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Kind {
    /// Text frames (the receiver validates UTF-8).
    Text,
    /// Binary frames.
    Binary,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Text => "text",
            Kind::Binary => "binary",
        })
    }
}

/// One echo workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Connections, each with its own conversation.
    pub connections: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages sent and not yet echoed, per connection.
    pub in_flight: usize,
    /// Text or binary.
    pub kind: Kind,
}

/// `(connections, size, in flight)` of every shape, in report order.
const SHAPES: [(usize, usize, usize); 7] = [
    (1, 20, 1),
    (1, 20, 16),
    (100, 20, 1),
    (10, 1024, 1),
    (16, 1024, 16),
    (100, 16 * 1024, 1),
    (16, 64 * 1024, 1),
];

impl Case {
    /// Every case: each shape as text and as binary.
    pub fn all() -> Vec<Case> {
        SHAPES
            .iter()
            .flat_map(|&(connections, size, in_flight)| {
                [Kind::Text, Kind::Binary].map(|kind| Case {
                    connections,
                    size,
                    in_flight,
                    kind,
                })
            })
            .collect()
    }

    /// The same case with at most `cap` connections (the smoke run keeps every shape but
    /// opens fewer sockets).
    #[must_use]
    pub fn with_connections_capped(&self, cap: usize) -> Case {
        Case {
            connections: self.connections.min(cap),
            ..self.clone()
        }
    }

    /// Whether this is one of the 20-byte cases (the per-message-overhead goals).
    pub fn is_small(&self) -> bool {
        self.size <= 20
    }

    /// Whether this is one of the 16 KiB or 64 KiB cases (the bulk goals).
    pub fn is_large(&self) -> bool {
        self.size >= 16 * 1024
    }

    /// A short, stable identifier, e.g. `100x20B-text`.
    pub fn id(&self) -> String {
        let flight = if self.in_flight > 1 {
            format!("x{}f", self.in_flight)
        } else {
            String::new()
        };
        format!(
            "{}x{}{}-{}",
            self.connections,
            size_label(self.size).replace(' ', ""),
            flight,
            self.kind
        )
    }
}

/// `20 B`, `1 KiB`, `64 KiB`.
pub fn size_label(size: usize) -> String {
    if size >= 1024 && size.is_multiple_of(1024) {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} × {}", self.connections, size_label(self.size))?;
        if self.in_flight > 1 {
            write!(f, " × {} in flight", self.in_flight)?;
        }
        write!(f, ", {}", self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_comes_as_text_and_binary() {
        let cases = Case::all();
        assert_eq!(cases.len(), 14);
        assert_eq!(cases[1].to_string(), "1 × 20 B, binary");
        assert_eq!(cases[3].to_string(), "1 × 20 B × 16 in flight, binary");
        assert_eq!(cases[3].id(), "1x20Bx16f-binary");
        assert_eq!(cases[13].id(), "16x64KiB-binary");
        assert!(cases[4].is_small() && cases[13].is_large() && !cases[6].is_large());
    }
}
