//! Reading fuzzer bytes one decision at a time, for every scenario decoder (the core's and
//! the driver's), so a given input means the same thing however it is decoded.

use std::time::Duration;

/// Reads bytes one decision at a time; past the end, every read is zero.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, position: 0 }
    }

    pub(crate) fn byte(&mut self) -> u8 {
        let byte = self.data.get(self.position).copied().unwrap_or(0);
        self.position += 1;
        byte
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub(crate) fn below(&mut self, n: u8) -> u8 {
        self.byte() % n
    }

    /// 1 ms ..= 65.536 s (two bytes).
    pub(crate) fn millis(&mut self) -> Duration {
        Duration::from_millis(u64::from(self.u16()) + 1)
    }

    /// 20 ms ..= 5.12 s, in steps of 20 ms (one byte).
    pub(crate) fn coarse_millis(&mut self) -> Duration {
        Duration::from_millis(20 * (u64::from(self.byte()) + 1))
    }

    pub(crate) fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    pub(crate) fn exhausted(&self) -> bool {
        self.position >= self.data.len()
    }
}
