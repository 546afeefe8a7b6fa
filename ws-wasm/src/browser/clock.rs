//! The supervisor's clock, its one timer and its seed, from the browser: `performance.now()`,
//! `setTimeout`, `crypto.getRandomValues`. Globals rather than `window.*`, so they work in a
//! worker too.

use std::time::Duration;

use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::{Closure, wasm_bindgen};
use ws_core::Instant;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Closure<dyn FnMut()>, millis: i32) -> i32;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: i32);
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
    fn get_random_values(buffer: &mut [u8]) -> Result<JsValue, JsValue>;
}

/// The longest delay `setTimeout` takes (2^31 − 1 ms, about 24.8 days); a later deadline
/// gets an early wake-up, which the supervisor treats as the no-op it is, and the timer is
/// set again.
const MAX_TIMEOUT_MS: u128 = i32::MAX as u128;

/// `performance.now()` as the supervisor's [`Instant`], from an origin taken at creation.
///
/// Monotonic, not affected by wall-clock changes. Whether it advances while the machine
/// sleeps depends on the platform; waking is handled by the `visibilitychange` probe
/// instead (see [`crate::browser::platform`]).
#[derive(Debug)]
pub(crate) struct Clock {
    origin_ms: f64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            origin_ms: performance_now(),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        let elapsed_ms = (performance_now() - self.origin_ms).max(0.0);
        Instant::from_duration(Duration::try_from_secs_f64(elapsed_ms / 1000.0).unwrap_or_default())
    }
}

/// The one timer: a single `setTimeout`, cleared and set again whenever the supervisor's
/// deadline changes, never one per deadline.
pub(crate) struct Timer {
    callback: Closure<dyn FnMut()>,
    handle: Option<i32>,
    /// The deadline the pending `setTimeout` is for.
    armed: Option<Instant>,
}

impl Timer {
    /// A timer that calls `on_fire` when it goes off.
    pub(crate) fn new(on_fire: impl FnMut() + 'static) -> Self {
        Timer {
            callback: Closure::new(on_fire),
            handle: None,
            armed: None,
        }
    }

    /// Makes the timer go off at `deadline` (or never): nothing to do when it already does.
    pub(crate) fn arm(&mut self, deadline: Option<Instant>, now: Instant) {
        if deadline == self.armed {
            return;
        }
        if let Some(handle) = self.handle.take() {
            clear_timeout(handle);
        }
        self.armed = deadline;
        if let Some(at) = deadline {
            // Rounded up: a timer that fires before the deadline only costs a re-arm.
            let millis = (at - now)
                .as_nanos()
                .div_ceil(1_000_000)
                .min(MAX_TIMEOUT_MS);
            self.handle = Some(set_timeout(&self.callback, millis as i32));
        }
    }

    /// The `setTimeout` went off: nothing is pending any more.
    pub(crate) fn fired(&mut self) {
        self.handle = None;
        self.armed = None;
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            clear_timeout(handle);
        }
    }
}

/// A jitter seed from `crypto.getRandomValues`, so tabs that lost the same server spread
/// out. Falls back to `Math.random()` where there is no Web Crypto.
pub(crate) fn random_seed() -> u64 {
    let mut bytes = [0_u8; 8];
    if get_random_values(&mut bytes).is_ok() {
        u64::from_le_bytes(bytes)
    } else {
        (js_sys::Math::random() * 2_f64.powi(53)) as u64
    }
}
