//! A JSON chat client: every stdin line becomes
//! `{"cmd":1,"msgType":0,"to":…,"from":…,"msg":…}`, every chat message received is printed.
//!
//! ```text
//! cargo run -p ws-tokio --example chat -- [--url ws://host/chat] [--from alice] [--to bob]
//! ```
//!
//! Without `--url` it talks to a local server that echoes every message, so it runs
//! anywhere. The heartbeat is application-level JSON (`{"cmd":4}`, answered by the same), as
//! many chat services expect; lines typed during an outage are queued and sent on reconnect.
//! End the input (Ctrl-D) to close cleanly.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use ws_tokio::{
    ClientOptions, CloseCode, Config, Event, Heartbeat, Matcher, Message, MessageExt, Text,
};

/// One chat line, in the wire format of the service.
#[derive(Serialize, Deserialize, Debug)]
struct Chat {
    cmd: u8,
    #[serde(rename = "msgType")]
    msg_type: u8,
    to: String,
    from: String,
    msg: String,
}

/// `cmd` of a chat line; `cmd` 4 is the heartbeat.
const CMD_CHAT: u8 = 1;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut url = None;
    let (mut from, mut to) = ("alice".to_owned(), "bob".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => url = Some(value),
            "--from" => from = value,
            "--to" => to = value,
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    let url = match url {
        Some(url) => url,
        None => local_echo_server().await?,
    };

    let config = Config::builder()
        .heartbeat(Heartbeat::Application {
            ping: Message::from(r#"{"cmd":4}"#),
            pong: Matcher::Contains(Text::from(r#""cmd":4"#)),
        })
        .ping_interval(Duration::from_secs(15))
        .build()?;
    let options = ClientOptions::builder(&url).config(config).build()?;
    let (client, mut events) = ws_tokio::connect(options);

    let sender = client.clone();
    let typing = tokio::spawn(async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let chat = Chat {
                cmd: CMD_CHAT,
                msg_type: 0,
                to: to.clone(),
                from: from.clone(),
                msg: line,
            };
            if sender.send_json(&chat).await.is_err() {
                return;
            }
        }
        // End of input: close once everything typed so far has been sent.
        let _ = sender.close(CloseCode::NORMAL, "bye").await;
    });

    while let Some(event) = events.next().await {
        match event {
            Event::Open { .. } => eprintln!("* connected to {url}"),
            Event::Message(message) => match message.json::<Chat>() {
                Ok(chat) if chat.cmd == CMD_CHAT => {
                    println!("[{} -> {}] {}", chat.from, chat.to, chat.msg);
                }
                Ok(_) => {}
                Err(_) => println!("(not chat) {:?}", message.as_text()),
            },
            Event::Rtt(rtt) => eprintln!("* heartbeat round trip {rtt:?}"),
            Event::Disconnected {
                error,
                will_reconnect,
                ..
            } => {
                let why = error.map_or_else(|| "closed".to_owned(), |e| e.to_string());
                eprintln!("* disconnected: {why} (reconnecting: {will_reconnect})");
            }
            Event::Reconnecting { attempt, delay } => {
                eprintln!("* reconnect attempt {attempt} in {delay:?}");
            }
            Event::Undelivered { message, .. } | Event::Rejected { message, .. } => {
                eprintln!("* not sent: {:?}", message.as_text());
            }
            Event::Closed => break,
            _ => {}
        }
    }
    typing.abort();
    Ok(())
}

/// A local server that echoes every text message, standing in for a chat service.
async fn local_echo_server() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("ws://{}/chat", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    if message.is_text() && socket.send(message).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(url)
}
