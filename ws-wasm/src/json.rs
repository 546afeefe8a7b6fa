//! JSON messages, for the many services that speak JSON over WebSocket.

use serde::Serialize;
use serde::de::DeserializeOwned;
use ws_core::{Message, Text};

use crate::error::Error;

/// Serialises `value` into a text message (one allocation, no UTF-8 re-check).
pub fn json_message<T: Serialize + ?Sized>(value: &T) -> Result<Message, Error> {
    let text = serde_json::to_string(value)?;
    Ok(Message::Text(Text::from(text)))
}

/// Reading a message as JSON.
pub trait MessageExt {
    /// Deserialises the payload (text or binary) as JSON.
    fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error>;
}

impl MessageExt for Message {
    fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Chat {
        user: String,
        text: String,
    }

    #[test]
    fn json_round_trip() {
        let chat = Chat {
            user: "ana".into(),
            text: "hé".into(),
        };
        let message = json_message(&chat).unwrap();
        assert_eq!(message.as_text(), Some(r#"{"user":"ana","text":"hé"}"#));
        assert_eq!(message.json::<Chat>().unwrap(), chat);
        assert!(Message::from("nope").json::<Chat>().is_err());
    }
}
