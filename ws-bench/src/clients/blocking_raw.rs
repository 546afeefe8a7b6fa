//! The blocking baseline: tungstenite over `std::net`, one thread per connection.

use std::net::TcpStream;
use std::time::Instant;

use tungstenite::{Message, WebSocket};

use super::threads::{Body, run_threads};
use super::{Buffers, Run, Sample, Target, check_wire, send_allowed, wire_messages};
use crate::error::{Error, Result};
use crate::workload::Conversation;

type Socket = WebSocket<TcpStream>;

/// Opens one connection with `buffers`; reads give up after `patience` (so a stuck run ends).
pub(crate) fn open(target: &Target, buffers: Buffers, run: &Run<'_>) -> Result<Socket> {
    let tcp = TcpStream::connect(target.addr)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(run.patience()))?;
    let (socket, _) =
        tungstenite::client::client_with_config(target.url.as_str(), tcp, Some(buffers.config()))
            .map_err(|error| Error::new(format!("handshake: {error}")))?;
    Ok(socket)
}

pub(super) fn run(run: &Run<'_>, buffers: Buffers) -> Result<Sample> {
    run_threads(
        run,
        |conversation: &Conversation| -> Result<Box<dyn Body>> {
            let socket = open(run.target, buffers, run)?;
            let messages = wire_messages(conversation)?;
            Ok(Box::new(Connection { socket, messages }))
        },
    )
}

struct Connection {
    socket: Socket,
    messages: Vec<Message>,
}

impl Body for Connection {
    fn converse(&mut self, conversation: &mut Conversation) -> Result<()> {
        let Connection { socket, messages } = self;
        let mut now = Instant::now();
        send_allowed(conversation, now, |index| {
            socket.send(messages[index].clone())
        })?;
        while !conversation.finished(now) {
            let message = socket.read()?;
            now = Instant::now();
            check_wire(conversation, &message, now)?;
            send_allowed(conversation, now, |index| {
                socket.send(messages[index].clone())
            })?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        let _ = self.socket.close(None);
        // Read until the server's Close comes back (tungstenite then reports the end).
        loop {
            match self.socket.read() {
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    return Ok(());
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}
