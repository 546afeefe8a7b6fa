//! The browser demo's and browser tests' server: ws-testkit's WebSocket servers and fault
//! proxies behind a tiny HTTP control API, plus the demo's static files. 127.0.0.1 only.
//!
//! ```text
//! ws-wasm-demo-server [--port P] [--static DIR]      prints "listening http://127.0.0.1:P/"
//!
//! GET  /...                      a file from DIR (index.html for /)
//! GET  /demo/config              {"ws": URL of the demo's echo server}
//! POST /demo/stop | /demo/restart   stop or restart the demo's server (same port)
//! POST /servers?heartbeat=PING:PONG&proxy   a new echo server (answering the app heartbeat,
//!                                behind a fault proxy): {"id", "url", "proxy"}
//! POST /servers/ID/stop | restart | freeze | pass | close?code=C
//! GET  /servers/ID/received      the texts the server received, in order
//! GET  /servers/ID/handshakes    how many handshakes it saw
//! GET  /servers/ID/closes        the close code of each client close it saw (null: none)
//! ```
//!
//! Every answer carries `Access-Control-Allow-Origin: *`, so a test page served from another
//! port (wasm-bindgen-test-runner's) can call it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::{env, fs, thread};

use serde_json::{Value, json};
use ws_testkit::{AppHeartbeat, Behavior, FaultProxy, ProxyMode, TestServer};

/// One server a test asked for, and the proxy in front of it.
struct Managed {
    server: TestServer,
    proxy: Option<FaultProxy>,
}

struct State {
    root: Option<PathBuf>,
    demo: TestServer,
    servers: Mutex<Vec<Managed>>,
}

fn main() {
    let mut port = 0_u16;
    let mut root = None;
    let mut args = env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(value)) => port = value.parse().expect("--port takes a number"),
            ("--static", Some(value)) => root = Some(PathBuf::from(value)),
            _ => {
                eprintln!("usage: ws-wasm-demo-server [--port P] [--static DIR]");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("cannot bind 127.0.0.1");
    let state = Arc::new(State {
        root,
        demo: TestServer::start_with(Behavior {
            app_heartbeat: Some(AppHeartbeat::reply("ping", "pong")),
            ..Behavior::default()
        }),
        servers: Mutex::new(Vec::new()),
    });
    let addr = listener
        .local_addr()
        .expect("bound listener has an address");
    println!("listening http://{addr}/");
    println!("demo WebSocket server {}", state.demo.url());
    for stream in listener.incoming().flatten() {
        let state = Arc::clone(&state);
        thread::spawn(move || {
            let _ = serve(stream, &state);
        });
    }
}

/// Answers one request on `stream`, then closes it.
fn serve(stream: TcpStream, state: &State) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut body_length = 0_u64;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            body_length = value.trim().parse().unwrap_or(0);
        }
    }
    std::io::copy(&mut reader.by_ref().take(body_length), &mut std::io::sink())?;
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, content_type, body) = route(state, method, path, query);
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Access-Control-Allow-Origin: *\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)
}

type Response = (&'static str, &'static str, Vec<u8>);

fn ok(value: &Value) -> Response {
    ("200 OK", "application/json", value.to_string().into_bytes())
}

fn not_found() -> Response {
    ("404 Not Found", "text/plain", b"not found\n".to_vec())
}

fn route(state: &State, method: &str, path: &str, query: &str) -> Response {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("OPTIONS", _) => ok(&json!({})),
        ("GET", ["demo", "config"]) => ok(&json!({ "ws": state.demo.url() })),
        ("POST", ["demo", "stop"]) => {
            state.demo.stop();
            ok(&json!({ "stopped": true }))
        }
        ("POST", ["demo", "restart"]) => {
            state.demo.restart();
            ok(&json!({ "restarted": true }))
        }
        ("POST", ["servers"]) => ok(&new_server(state, query)),
        (_, ["servers", id, action]) => {
            let servers = state.servers.lock().unwrap_or_else(PoisonError::into_inner);
            match id.parse::<usize>().ok().and_then(|id| servers.get(id)) {
                Some(managed) => control(managed, method, action, query),
                None => not_found(),
            }
        }
        ("GET", _) => static_file(state.root.as_deref(), path),
        _ => not_found(),
    }
}

fn new_server(state: &State, query: &str) -> Value {
    let mut behavior = Behavior::default();
    let mut with_proxy = false;
    for (name, value) in query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
    {
        match name {
            "heartbeat" => {
                let (ping, pong) = value.split_once(':').unwrap_or((value, ""));
                behavior.app_heartbeat = Some(AppHeartbeat::reply(ping, pong));
            }
            "proxy" => with_proxy = true,
            _ => {}
        }
    }
    let server = TestServer::start_with(behavior);
    let proxy = with_proxy.then(|| FaultProxy::start(server.addr()));
    let answer = json!({
        "url": server.url(),
        "proxy": proxy.as_ref().map(FaultProxy::url),
    });
    let mut servers = state.servers.lock().unwrap_or_else(PoisonError::into_inner);
    servers.push(Managed { server, proxy });
    let mut answer = answer;
    answer["id"] = json!(servers.len() - 1);
    answer
}

fn control(managed: &Managed, method: &str, action: &str, query: &str) -> Response {
    let Managed { server, proxy } = managed;
    match (method, action) {
        ("GET", "received") => {
            let texts: Vec<String> = server
                .received()
                .iter()
                .map(|received| match received.text() {
                    Some(text) => text.to_owned(),
                    None => format!("<{} bytes>", received.binary().map_or(0, <[u8]>::len)),
                })
                .collect();
            ok(&json!(texts))
        }
        ("GET", "handshakes") => ok(&json!(server.handshake_attempts())),
        ("GET", "closes") => ok(&json!(server.client_close_codes())),
        ("POST", "stop") => {
            server.stop();
            ok(&json!({}))
        }
        ("POST", "restart") => {
            server.restart();
            ok(&json!({}))
        }
        ("POST", "freeze" | "pass") => match proxy {
            Some(proxy) => {
                let mode = if action == "freeze" {
                    ProxyMode::Freeze
                } else {
                    ProxyMode::Pass
                };
                proxy.set_mode(mode);
                ok(&json!({}))
            }
            None => not_found(),
        },
        ("POST", "close") => {
            let code = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("code="))
                .and_then(|code| code.parse().ok())
                .unwrap_or(1000);
            ok(&json!(server.close_all(code, "closed by the test")))
        }
        _ => not_found(),
    }
}

fn static_file(root: Option<&Path>, path: &str) -> Response {
    let Some(root) = root else {
        return not_found();
    };
    let relative = Path::new(path.trim_start_matches('/'));
    if relative
        .components()
        .any(|component| !matches!(component, Component::Normal(_)))
    {
        return not_found();
    }
    let file = if path.ends_with('/') {
        root.join(relative).join("index.html")
    } else {
        root.join(relative)
    };
    let Ok(body) = fs::read(&file) else {
        return not_found();
    };
    let content_type = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    ("200 OK", content_type, body)
}
