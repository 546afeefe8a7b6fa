//! The page's signals about the network and about sleeping, as supervisor inputs.
//!
//! - `online` and `offline` (on the global object, so workers get them too): the network
//!   changed. Open, with an application heartbeat, the supervisor sends a probe at once and
//!   drops the connection if no reply comes within `pong_timeout` (a dropped Wi-Fi is noticed
//!   in one `pong_timeout`, not `ping_interval + pong_timeout`); a live connection answers and
//!   stays. Waiting to reconnect, it retries at once.
//! - `visibilitychange` to visible: the tab (or the laptop) wakes up. Its timers were
//!   throttled or frozen, so the supervisor is ticked at once: a deadline long past is a late
//!   tick, which sends a probe instead of declaring a peer dead whose reply could not be read;
//!   and the wake-up counts as a possible network change (the machine may have slept in one
//!   network and woken in another), which probes an open connection or skips a backoff wait.
//!
//! The listeners are removed when the client closes for good (or its last handle is dropped).

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{Document, EventTarget};

use super::{Link, defer_drop};
use crate::session::Session;

type Listener = Closure<dyn FnMut()>;

/// The registered listeners; dropping this removes them.
pub(crate) struct Listeners {
    global: EventTarget,
    document: Option<Document>,
    /// Taken when the listeners are removed.
    callbacks: Option<Callbacks>,
}

struct Callbacks {
    network: Listener,
    visibility: Listener,
}

impl Listeners {
    pub(crate) fn register(link: &Link) -> Listeners {
        let global: EventTarget = js_sys::global().unchecked_into();
        let document = web_sys::window().and_then(|window| window.document());

        let on_network = link.clone();
        let network = Listener::new(move || on_network.with(Session::network_changed));
        let on_visibility = link.clone();
        let watched = document.clone();
        let visibility = Listener::new(move || {
            if watched.as_ref().is_some_and(Document::hidden) {
                return;
            }
            on_visibility.with(|session, now| {
                session.tick(now);
                session.network_changed(now);
            });
        });

        let callback = network.as_ref().unchecked_ref();
        let _ = global.add_event_listener_with_callback("online", callback);
        let _ = global.add_event_listener_with_callback("offline", callback);
        if let Some(document) = &document {
            let _ = document.add_event_listener_with_callback(
                "visibilitychange",
                visibility.as_ref().unchecked_ref(),
            );
        }
        Listeners {
            global,
            document,
            callbacks: Some(Callbacks {
                network,
                visibility,
            }),
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        let Some(callbacks) = self.callbacks.take() else {
            return;
        };
        let network = callbacks.network.as_ref().unchecked_ref();
        for event in ["online", "offline"] {
            let _ = self
                .global
                .remove_event_listener_with_callback(event, network);
        }
        if let Some(document) = &self.document {
            let _ = document.remove_event_listener_with_callback(
                "visibilitychange",
                callbacks.visibility.as_ref().unchecked_ref(),
            );
        }
        // Removal may happen inside one of these listeners: free them after it returns.
        defer_drop(callbacks);
    }
}
