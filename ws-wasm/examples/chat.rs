//! The browser demo: a chat over ws-wasm, with a state badge, the heartbeat's round trip, the
//! reconnect countdown, the queue, and buttons that stop and restart the local server.
//!
//! Built and served by `bash scripts/browser-demo.sh`. The page records what happens in
//! `window.demoTimeline` (`connecting`, `open`, `rtt`, `disconnected` for a lost connection,
//! `connect failed` for an attempt that did not open, `reconnecting`, `message:TEXT`…), which
//! the browser test of the page reads.

#[cfg(target_arch = "wasm32")]
mod page {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use serde::{Deserialize, Serialize};
    use wasm_bindgen::prelude::{Closure, wasm_bindgen};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::{JsFuture, spawn_local};
    use web_sys::{Document, HtmlElement, HtmlInputElement, KeyboardEvent};
    use ws_wasm::{
        Client, ClientOptions, Config, Event, Heartbeat, Jitter, Matcher, Message, MessageExt,
        State, Text,
    };

    #[derive(Serialize, Deserialize)]
    struct Chat {
        user: String,
        text: String,
    }

    #[wasm_bindgen(start)]
    fn start() {
        spawn_local(async {
            if let Err(error) = run().await {
                web_sys::console::error_1(&error);
            }
        });
    }

    fn document() -> Document {
        web_sys::window().unwrap().document().unwrap()
    }

    fn element<T: JsCast>(id: &str) -> T {
        document().get_element_by_id(id).unwrap().unchecked_into()
    }

    fn set_text(id: &str, text: &str) {
        element::<HtmlElement>(id).set_text_content(Some(text));
    }

    /// Appends a line to the message list.
    fn show(text: &str, class: &str) {
        let list: HtmlElement = element("messages");
        let item = document().create_element("li").unwrap();
        item.set_class_name(class);
        item.set_text_content(Some(text));
        list.append_child(&item).unwrap();
        list.set_scroll_top(list.scroll_height());
    }

    /// Records a step in `window.demoTimeline` for the page's browser test.
    fn record(step: &str) {
        let window = web_sys::window().unwrap();
        if let Ok(timeline) = js_sys::Reflect::get(&window, &"demoTimeline".into()) {
            timeline
                .unchecked_into::<js_sys::Array>()
                .push(&JsValue::from_str(step));
        }
    }

    async fn fetch(method: &str, path: &str) -> Result<JsValue, JsValue> {
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        let response = JsFuture::from(
            web_sys::window()
                .unwrap()
                .fetch_with_str_and_init(path, &init),
        )
        .await?;
        JsFuture::from(response.unchecked_into::<web_sys::Response>().json()?).await
    }

    fn on_click(id: &str, handler: impl FnMut() + 'static) {
        let closure = Closure::<dyn FnMut()>::new(handler);
        element::<HtmlElement>(id).set_onclick(Some(closure.as_ref().unchecked_ref()));
        closure.forget(); // lives as long as the page
    }

    fn show_state(client: &Client) {
        let (label, class) = match client.state() {
            State::Open => ("open", "open"),
            State::Connecting => ("connecting", "connecting"),
            State::WaitingToReconnect => ("reconnecting", "waiting"),
            State::Closing => ("closing", "connecting"),
            _ => ("closed", "closed"),
        };
        let badge: HtmlElement = element("state");
        badge.set_text_content(Some(label));
        badge.set_class_name(class);
        set_text(
            "queued",
            &format!("queued: {}", client.stats().queued_messages),
        );
    }

    async fn run() -> Result<(), JsValue> {
        let demo = fetch("GET", "/demo/config").await?;
        let url = js_sys::Reflect::get(&demo, &"ws".into())?
            .as_string()
            .ok_or("no WebSocket URL in /demo/config")?;
        let config = Config::builder()
            .heartbeat(Heartbeat::Application {
                ping: Message::from("ping"),
                pong: Matcher::Exact(Text::from("pong")),
            })
            .ping_interval(Duration::from_secs(1))
            .pong_timeout(Duration::from_secs(1))
            .initial_delay(Duration::from_millis(500))
            .max_delay(Duration::from_secs(4))
            .jitter(Jitter::Equal)
            .build()
            .map_err(|e| e.to_string())?;
        let options = ClientOptions::builder(&url)
            .config(config)
            .build()
            .map_err(|e| e.to_string())?;
        let (client, mut events) = ws_wasm::connect(options);
        show(&format!("connecting to {url}"), "sys");
        wire_input(&client);
        wire_server_buttons();
        let retry_at = start_countdown()?;
        while let Some(event) = events.recv().await {
            show_event(&event, &retry_at);
            show_state(&client);
        }
        Ok(())
    }

    /// The input line and its button: each line goes out as a JSON chat message.
    fn wire_input(client: &Client) {
        let client = client.clone();
        let send = Rc::new(move || {
            let input: HtmlInputElement = element("input");
            let text = input.value();
            if text.is_empty() {
                return;
            }
            input.set_value("");
            let client = client.clone();
            spawn_local(async move {
                let chat = Chat {
                    user: "you".into(),
                    text: text.clone(),
                };
                let queued = client.state() != State::Open;
                if client.send_json(&chat).await.is_ok() {
                    let note = if queued { " (queued)" } else { "" };
                    show(&format!("you: {text}{note}"), "me");
                    record(&format!("sent:{text}"));
                }
                show_state(&client);
            });
        });
        on_click("send", {
            let send = Rc::clone(&send);
            move || send()
        });
        let on_enter = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
            if event.key() == "Enter" {
                send();
            }
        });
        element::<HtmlElement>("input").set_onkeydown(Some(on_enter.as_ref().unchecked_ref()));
        on_enter.forget();
    }

    /// The buttons that stop and restart the local server (through its control API).
    fn wire_server_buttons() {
        for (id, path, note) in [
            ("stop", "/demo/stop", "server stopped"),
            ("restart", "/demo/restart", "server restarted"),
        ] {
            on_click(id, move || {
                spawn_local(async move {
                    if fetch("POST", path).await.is_ok() {
                        show(&format!("── {note}"), "sys");
                        record(note);
                    }
                });
            });
        }
    }

    /// The reconnect countdown, for display only: the supervisor's own timer decides when to
    /// retry. Returns where to put the time of the next attempt.
    fn start_countdown() -> Result<Rc<Cell<Option<f64>>>, JsValue> {
        let retry_at = Rc::new(Cell::new(None::<f64>));
        let tick = Closure::<dyn FnMut()>::new({
            let retry_at = Rc::clone(&retry_at);
            move || {
                let text = retry_at.get().map_or(String::new(), |at: f64| {
                    let left = ((at - js_sys::Date::now()) / 1000.0).max(0.0);
                    format!("reconnecting in {left:.1} s")
                });
                set_text("countdown", &text);
            }
        });
        web_sys::window()
            .unwrap()
            .set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                100,
            )?;
        tick.forget();
        Ok(retry_at)
    }

    fn show_event(event: &Event, retry_at: &Cell<Option<f64>>) {
        match event {
            Event::Connecting { attempt } => {
                retry_at.set(None);
                set_text("countdown", "");
                record("connecting");
                if *attempt > 0 {
                    show(&format!("attempt {attempt}…"), "sys");
                }
            }
            Event::Open { .. } => {
                record("open");
                show("● open", "sys");
            }
            Event::Message(message) => {
                let text = message
                    .json::<Chat>()
                    .map_or_else(|_| message.as_text().unwrap_or("").to_owned(), |c| c.text);
                record(&format!("message:{text}"));
                show(&format!("echo: {text}"), "");
            }
            Event::Rtt(rtt) => {
                record("rtt");
                set_text(
                    "rtt",
                    &format!("heartbeat: {:.1} ms", rtt.as_secs_f64() * 1000.0),
                );
            }
            Event::ConnectFailed { error, .. } => {
                record("connect failed");
                show(&format!("✕ attempt failed: {error}"), "sys");
            }
            Event::Disconnected { code, cause, .. } => {
                record("disconnected");
                show(&format!("○ disconnected ({code}): {cause}"), "sys");
            }
            Event::Reconnecting { attempt, delay } => {
                retry_at.set(Some(js_sys::Date::now() + delay.as_secs_f64() * 1000.0));
                set_text(
                    "countdown",
                    &format!("reconnecting in {:.1} s", delay.as_secs_f64()),
                );
                record("reconnecting");
                show(
                    &format!(
                        "reconnecting: attempt {attempt} in {} ms",
                        delay.as_millis()
                    ),
                    "sys",
                );
            }
            Event::Closed => record("closed"),
            _ => {}
        }
    }
}
