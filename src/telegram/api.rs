//! The outbox's own Bot API client: `sendMessage`, `sendPhoto` and `editMessageText` over
//! reqwest, answering with the message id or a classified [`SendError`].
//!
//! Why not teloxide here: see [`super::errors`] (a hidden 10 s sleep on every 5xx, lossy error
//! mapping). The bot itself (updates, `getMe`, `setMyCommands`, callback answers) uses teloxide.
//! No error text leaving this module contains the token: reqwest errors are stripped of their
//! URL and masked.

use super::errors::{ApiFailure, SendError, classify, mask_token};
use crate::store::Button;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// What is sent for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRequest {
    pub chat: i64,
    pub text: String,
    /// `true`: `parse_mode=HTML`; `false`: plain text (the fallback after a parse error).
    pub html: bool,
    pub reply_to: Option<i32>,
    pub buttons: Vec<Vec<Button>>,
}

/// A chat's limits are shared by every call that posts into it; the client answers the message
/// id Telegram gave the message (or the edited message).
#[derive(Clone)]
pub struct BotApi {
    client: reqwest::Client,
    /// `{api_url}/bot{token}`: the token is only ever in this string and `token`.
    base: String,
    token: String,
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotApi").field("base", &mask_token(&self.base, &self.token)).finish()
    }
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Parameters>,
}

#[derive(Deserialize)]
struct Parameters {
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    migrate_to_chat_id: Option<i64>,
}

impl BotApi {
    /// A client for `{api_url}/bot{token}/{method}`. `timeout` bounds each whole request; a
    /// request that times out may still have been delivered (at-least-once, see the outbox).
    pub fn new(token: &str, api_url: &str, timeout: Duration) -> Result<BotApi, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| mask_token(&e.without_url().to_string(), token))?;
        Ok(BotApi { client, base: format!("{}/bot{token}", api_url.trim_end_matches('/')), token: token.to_owned() })
    }

    /// Sends a text message; the message id on success.
    pub async fn send_message(&self, m: &MessageRequest) -> Result<i32, SendError> {
        let mut body = json!({
            "chat_id": m.chat,
            "text": m.text,
            "link_preview_options": { "is_disabled": true },
        });
        if m.html {
            body["parse_mode"] = json!("HTML");
        }
        if let Some(id) = m.reply_to {
            body["reply_parameters"] = json!({ "message_id": id, "allow_sending_without_reply": true });
        }
        if !m.buttons.is_empty() {
            body["reply_markup"] = keyboard(&m.buttons);
        }
        let result = self.call_json("sendMessage", &body).await?;
        message_id(&result)
    }

    /// Sends a PNG with a caption (multipart upload).
    pub async fn send_photo(
        &self,
        chat: i64,
        png: Vec<u8>,
        caption: &str,
        html: bool,
        reply_to: Option<i32>,
    ) -> Result<i32, SendError> {
        let part = reqwest::multipart::Part::bytes(png)
            .file_name("chart.png")
            .mime_str("image/png")
            .map_err(|e| SendError::Rejected(self.clean(&e)))?;
        let mut form = reqwest::multipart::Form::new().text("chat_id", chat.to_string()).part("photo", part);
        if !caption.is_empty() {
            form = form.text("caption", caption.to_owned());
            if html {
                form = form.text("parse_mode", "HTML");
            }
        }
        if let Some(id) = reply_to {
            form = form
                .text("reply_parameters", json!({ "message_id": id, "allow_sending_without_reply": true }).to_string());
        }
        let request = self.client.post(self.url("sendPhoto")).multipart(form);
        let result = self.finish(request).await?;
        message_id(&result)
    }

    /// Replaces a message's text and buttons (no buttons: they are removed).
    pub async fn edit_message_text(
        &self,
        chat: i64,
        message_id: i32,
        text: &str,
        html: bool,
        buttons: &[Vec<Button>],
    ) -> Result<(), SendError> {
        let mut body = json!({
            "chat_id": chat,
            "message_id": message_id,
            "text": text,
            "link_preview_options": { "is_disabled": true },
        });
        if html {
            body["parse_mode"] = json!("HTML");
        }
        if !buttons.is_empty() {
            body["reply_markup"] = keyboard(buttons);
        }
        self.call_json("editMessageText", &body).await.map(|_| ())
    }

    fn url(&self, method: &str) -> String {
        format!("{}/{method}", self.base)
    }

    /// An error text without the URL (which holds the token) and masked for good measure.
    fn clean(&self, e: &reqwest::Error) -> String {
        let kind = if e.is_timeout() {
            "timeout: "
        } else if e.is_connect() {
            "connect: "
        } else {
            ""
        };
        let mut text = format!("{kind}{e}");
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        mask_token(&text, &self.token)
    }

    async fn call_json(&self, method: &str, body: &Value) -> Result<Value, SendError> {
        let request = self.client.post(self.url(method)).json(body);
        self.finish(request).await
    }

    async fn finish(&self, request: reqwest::RequestBuilder) -> Result<Value, SendError> {
        let response = request.send().await.map_err(|e| SendError::Transient(self.clean(&e.without_url())))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| SendError::Transient(self.clean(&e.without_url())))?;
        let answer: Answer = match serde_json::from_str(&text) {
            Ok(a) => a,
            Err(_) => {
                let failure = ApiFailure {
                    status: if status < 300 { 0 } else { status },
                    description: format!("HTTP {status} with an unreadable body"),
                    ..Default::default()
                };
                // An unreadable 2xx or 4xx is as unknown as a 5xx: retry later.
                return Err(match classify(&failure) {
                    SendError::Transient(d) => SendError::Transient(d),
                    _ => SendError::Transient(failure.description),
                });
            }
        };
        if answer.ok {
            return Ok(answer.result.unwrap_or(Value::Null));
        }
        let params = answer.parameters;
        let failure = ApiFailure {
            status,
            description: mask_token(answer.description.as_deref().unwrap_or(""), &self.token),
            retry_after: params.as_ref().and_then(|p| p.retry_after),
            migrate_to: params.as_ref().and_then(|p| p.migrate_to_chat_id),
        };
        Err(classify(&failure))
    }
}

fn keyboard(buttons: &[Vec<Button>]) -> Value {
    let rows: Vec<Vec<Value>> = buttons
        .iter()
        .map(|row| row.iter().map(|b| json!({ "text": b.text, "callback_data": b.data })).collect())
        .collect();
    json!({ "inline_keyboard": rows })
}

/// The `message_id` of a `Message` result. `editMessageText` may answer `true` instead.
fn message_id(result: &Value) -> Result<i32, SendError> {
    result
        .get("message_id")
        .and_then(Value::as_i64)
        .and_then(|id| i32::try_from(id).ok())
        // A success without a message id cannot be threaded or edited, but it was delivered:
        // deleting the row is right; 0 marks "unknown".
        .map_or(Ok(0), Ok)
}
