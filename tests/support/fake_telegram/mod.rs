//! A fake Telegram Bot API for tests: axum on `127.0.0.1:0`, routes `/bot{token}/{method}`
//! with method names matched case-insensitively (teloxide sends `GetMe`, the outbox
//! `sendMessage`).
//!
//! * `getUpdates` is offset-aware (updates below the offset are confirmed and dropped) and
//!   long-polls briefly; tests push updates with [`FakeTelegram::push`] and the builders
//!   ([`FakeTelegram::text`], [`FakeTelegram::anonymous`], [`FakeTelegram::callback`], ...).
//! * Every call is recorded (method, JSON or multipart parameters, HTTP status).
//! * Faults can be scripted for the next send or per chat: 429 with `retry_after`, 5xx, "can't
//!   parse entities", `migrate_to_chat_id`, blocked, kicked, chat not found, too long.
//! * Like Telegram, it refuses HTML it cannot parse (unknown tags, unbalanced tags, a bare `<`
//!   or `&`) and texts over 4096 characters, so the outbox's fallbacks are exercised for real.
//! * **Enforcement mode** ([`FakeTelegram::enforce`]): sends, photos and edits over the real
//!   limits (1/s per chat, 20/min per group, 30/s overall; all divided by a scale factor, with a
//!   tolerance for network jitter) are answered 429 and counted as violations.
//! * Answers have the exact shapes teloxide 0.17 expects (`getMe` with `has_main_web_app`, full
//!   `Message` objects); errors are 4xx JSON, never 5xx unless scripted (teloxide sleeps 10 s on
//!   a 5xx).

#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The token the fake accepts (any other gets 401).
pub const TOKEN: &str = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl";
pub const BOT_ID: i64 = 123_456_789;
pub const BOT_USERNAME: &str = "bert_test_bot";
/// Telegram's placeholder sender of anonymous group admins.
pub const GROUP_ANONYMOUS_BOT: i64 = 1_087_968_824;

/// A scripted failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    RetryAfter(u64),
    ServerError,
    CantParse,
    Migrate(i64),
    Blocked,
    Kicked,
    ChatNotFound,
    TooLong,
    BadRequest(String),
    /// The message is delivered, but the answer comes only after this long: the sender's
    /// request times out although Telegram has the message (a lost answer).
    DeliverThenHang(Duration),
}

/// One recorded call.
#[derive(Clone, Debug)]
pub struct Call {
    /// Lower-cased method name.
    pub method: String,
    pub params: Value,
    pub status: u16,
    pub at: Instant,
}

/// What a successful send, photo or edit delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Message,
    Photo,
    Edit,
}

#[derive(Clone, Debug)]
pub struct Sent {
    pub kind: Kind,
    pub chat: i64,
    pub message_id: i64,
    /// The text, or the caption of a photo.
    pub text: String,
    pub html: bool,
    pub reply_to: Option<i64>,
    /// Inline buttons as (label, callback data).
    pub buttons: Vec<(String, String)>,
    pub photo_bytes: usize,
    /// The photo's first 32 bytes (empty for text).
    pub photo_head: Vec<u8>,
    pub at: Instant,
}

struct Enforcement {
    scale: f64,
    tolerance: f64,
    last: HashMap<i64, Instant>,
    groups: HashMap<i64, VecDeque<Instant>>,
    global: VecDeque<Instant>,
    violations: Vec<String>,
}

impl Enforcement {
    /// `None` if `chat` may receive a message at `now`; else what it violates.
    fn check(&mut self, chat: i64, now: Instant) -> Option<String> {
        let slack = 1.0 - self.tolerance;
        let per_chat = Duration::from_secs_f64(1.0 / self.scale * slack);
        if let Some(last) = self.last.get(&chat)
            && now.duration_since(*last) < per_chat
        {
            return Some(format!("chat {chat}: {:?} after the previous message", now.duration_since(*last)));
        }
        let minute = Duration::from_secs_f64(60.0 / self.scale * slack);
        if chat < 0 {
            let times = self.groups.entry(chat).or_default();
            while times.front().is_some_and(|t| now.duration_since(*t) >= minute) {
                times.pop_front();
            }
            if times.len() >= 20 {
                return Some(format!("group {chat}: over 20 messages a minute"));
            }
        }
        let second = Duration::from_secs_f64(1.0 / self.scale * slack);
        while self.global.front().is_some_and(|t| now.duration_since(*t) >= second) {
            self.global.pop_front();
        }
        if self.global.len() >= 30 {
            return Some("over 30 messages a second overall".into());
        }
        self.last.insert(chat, now);
        if chat < 0 {
            self.groups.entry(chat).or_default().push_back(now);
        }
        self.global.push_back(now);
        None
    }
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    updates: Vec<(i64, Value)>,
    next_update: i64,
    next_message: i64,
    next_faults: VecDeque<Fault>,
    chat_faults: HashMap<i64, VecDeque<Fault>>,
    sticky: HashMap<i64, Fault>,
    sent: Vec<Sent>,
    enforcement: Option<Enforcement>,
    /// Message ids per chat (to answer "message to edit not found").
    messages: HashMap<(i64, i64), String>,
    poll_wait: Duration,
}

/// The running fake.
#[derive(Clone)]
pub struct FakeTelegram {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    updated: Arc<Notify>,
}

#[derive(Clone)]
struct AppState {
    inner: Arc<Mutex<Inner>>,
    updated: Arc<Notify>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let inner = Arc::new(Mutex::new(Inner {
            next_update: 10_000,
            next_message: 1,
            poll_wait: Duration::from_millis(250),
            ..Default::default()
        }));
        let updated = Arc::new(Notify::new());
        let state = AppState { inner: inner.clone(), updated: updated.clone() };
        let app = Router::new().route("/{*path}", post(handle)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake Telegram");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTelegram { addr, inner, updated }
    }

    /// The base URL to configure (`BERT_TELEGRAM_API_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ----- scripting ----------------------------------------------------------------------

    /// The next send/photo/edit call (to any chat) fails like this.
    pub fn fail_next(&self, fault: Fault) {
        self.lock().next_faults.push_back(fault);
    }

    /// The next call for `chat` fails like this (several calls queue up).
    pub fn fail_chat(&self, chat: i64, fault: Fault) {
        self.lock().chat_faults.entry(chat).or_default().push_back(fault);
    }

    /// Every call for `chat` fails like this (a chat that blocked the bot).
    pub fn fail_chat_always(&self, chat: i64, fault: Fault) {
        self.lock().sticky.insert(chat, fault);
    }

    /// Enforce Telegram's limits divided by `scale`, with `tolerance` (e.g. 0.2) for jitter.
    pub fn enforce(&self, scale: u32, tolerance: f64) {
        self.lock().enforcement = Some(Enforcement {
            scale: f64::from(scale.max(1)),
            tolerance,
            last: HashMap::new(),
            groups: HashMap::new(),
            global: VecDeque::new(),
            violations: Vec::new(),
        });
    }

    pub fn violations(&self) -> Vec<String> {
        self.lock().enforcement.as_ref().map(|e| e.violations.clone()).unwrap_or_default()
    }

    // ----- inspection ---------------------------------------------------------------------

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Calls of one method (case-insensitive).
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        let m = method.to_ascii_lowercase();
        self.lock().calls.iter().filter(|c| c.method == m).cloned().collect()
    }

    /// Everything delivered, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    pub fn sent_to(&self, chat: i64) -> Vec<Sent> {
        self.lock().sent.iter().filter(|s| s.chat == chat).cloned().collect()
    }

    /// Waits (polling, bounded by `timeout`) until `pred` holds for what was delivered.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&[Sent]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(&self.lock().sent) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until `chat` received at least `n` messages; returns them.
    pub async fn wait_sent(&self, chat: i64, n: usize, timeout: Duration) -> Vec<Sent> {
        self.wait_for(timeout, |s| s.iter().filter(|m| m.chat == chat).count() >= n).await;
        self.sent_to(chat)
    }

    /// Waits until at least `n` calls of `method` were made.
    pub async fn wait_call_count(&self, method: &str, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.calls_of(method).len() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    /// Waits until some call of `method` was made.
    pub async fn wait_call(&self, method: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if !self.calls_of(method).is_empty() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    // ----- updates --------------------------------------------------------------------------

    /// Queues an update (its `update_id` is assigned here); returns the id.
    pub fn push(&self, mut update: Value) -> i64 {
        let id = {
            let mut inner = self.lock();
            let id = inner.next_update;
            inner.next_update += 1;
            update["update_id"] = json!(id);
            inner.updates.push((id, update));
            id
        };
        self.updated.notify_waiters();
        id
    }

    fn next_message_id(&self) -> i64 {
        let mut inner = self.lock();
        let id = inner.next_message;
        inner.next_message += 1;
        id
    }

    /// A message object (no sender yet) in `chat`, with a `bot_command` entity when `text` is a
    /// command, as Telegram marks them.
    pub fn message(&self, chat: i64, text: &str) -> Value {
        let mut m = json!({
            "message_id": self.next_message_id(),
            "date": 1_700_000_000,
            "chat": chat_json(chat),
            "text": text,
        });
        if let Some(rest) = text.strip_prefix('/') {
            let len = 1 + rest.split(char::is_whitespace).next().unwrap_or("").encode_utf16().count();
            m["entities"] = json!([{ "type": "bot_command", "offset": 0, "length": len }]);
        }
        m
    }

    /// A text message from user `user` (language `lang`) in `chat` (positive: the private chat
    /// with that user; negative: a group, `-100…`: a supergroup).
    pub fn text(&self, chat: i64, user: i64, lang: Option<&str>, text: &str) -> i64 {
        let mut m = self.message(chat, text);
        m["from"] = user_json(user, lang);
        self.push(json!({ "message": m }))
    }

    /// A message sent by an anonymous group admin: `from` is GroupAnonymousBot and
    /// `sender_chat` the group.
    pub fn anonymous(&self, chat: i64, text: &str) -> i64 {
        let mut m = self.message(chat, text);
        m["from"] =
            json!({"id": GROUP_ANONYMOUS_BOT, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"});
        m["sender_chat"] = chat_json(chat);
        self.push(json!({ "message": m }))
    }

    /// A message posted on behalf of a channel into a group (`sender_chat` is the channel).
    pub fn as_channel(&self, chat: i64, channel: i64, text: &str) -> i64 {
        let mut m = self.message(chat, text);
        m["from"] = json!({"id": 136_817_688, "is_bot": true, "first_name": "Channel", "username": "Channel_Bot"});
        m["sender_chat"] = json!({"id": channel, "type": "channel", "title": "News"});
        self.push(json!({ "message": m }))
    }

    /// An edit of an earlier message to `text`.
    pub fn edited(&self, chat: i64, user: i64, text: &str) -> i64 {
        let mut m = self.message(chat, text);
        m["from"] = user_json(user, None);
        m["edit_date"] = json!(1_700_000_100);
        self.push(json!({ "edited_message": m }))
    }

    /// A message forwarded by `user` from `original` into `chat`.
    pub fn forwarded(&self, chat: i64, user: i64, original: i64, text: &str) -> i64 {
        let mut m = self.message(chat, text);
        m["from"] = user_json(user, None);
        m["forward_origin"] = json!({"type": "user", "date": 1_699_999_000, "sender_user": user_json(original, None)});
        self.push(json!({ "message": m }))
    }

    /// A channel post (the bot is a member of a channel).
    pub fn channel_post(&self, channel: i64, text: &str) -> i64 {
        let mut m = self.message(channel, text);
        m["chat"] = json!({"id": channel, "type": "channel", "title": "News"});
        m["sender_chat"] = m["chat"].clone();
        self.push(json!({ "channel_post": m }))
    }

    /// A button press by `user` under message `message_id` in `chat`.
    pub fn callback(&self, chat: i64, message_id: i64, user: i64, data: &str) -> i64 {
        let id = format!("cq{}", self.next_message_id());
        let cq = json!({
            "id": id,
            "from": user_json(user, None),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1_700_000_000,
                "chat": chat_json(chat),
                "from": {"id": BOT_ID, "is_bot": true, "first_name": "Bert", "username": BOT_USERNAME},
                "text": "preview",
            },
        });
        self.push(json!({ "callback_query": cq }))
    }
}

pub fn user_json(id: i64, lang: Option<&str>) -> Value {
    let mut u = json!({"id": id, "is_bot": false, "first_name": format!("User{id}")});
    if let Some(l) = lang {
        u["language_code"] = json!(l);
    }
    u
}

pub fn chat_json(chat: i64) -> Value {
    if chat > 0 {
        json!({"id": chat, "type": "private", "first_name": format!("User{chat}")})
    } else if chat <= -1_000_000_000_000 {
        json!({"id": chat, "type": "supergroup", "title": "Desk"})
    } else {
        json!({"id": chat, "type": "group", "title": "Desk"})
    }
}

// ----- the server -----------------------------------------------------------------------------

fn ok(result: Value) -> Response {
    (StatusCode::OK, axum::Json(json!({"ok": true, "result": result}))).into_response()
}

fn error(status: u16, description: &str, parameters: Option<Value>) -> (u16, Response) {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, (code, axum::Json(body)).into_response())
}

fn fault_response(f: &Fault) -> (u16, Response) {
    match f {
        Fault::RetryAfter(n) => {
            error(429, &format!("Too Many Requests: retry after {n}"), Some(json!({"retry_after": n})))
        }
        Fault::ServerError => error(502, "Bad Gateway", None),
        Fault::CantParse => {
            error(400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0", None)
        }
        Fault::Migrate(id) => error(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            Some(json!({"migrate_to_chat_id": id})),
        ),
        Fault::Blocked => error(403, "Forbidden: bot was blocked by the user", None),
        Fault::Kicked => error(403, "Forbidden: bot was kicked from the group chat", None),
        Fault::ChatNotFound => error(400, "Bad Request: chat not found", None),
        Fault::TooLong => error(400, "Bad Request: message is too long", None),
        Fault::BadRequest(d) => error(400, d, None),
        // Taken before delivery (`take_hang`); never reaches here, but answer sanely if it does.
        Fault::DeliverThenHang(_) => error(504, "Gateway Timeout", None),
    }
}

/// Parses `multipart/form-data` into a JSON object: text fields as strings, files as
/// `{"file_name": .., "size": ..}`.
fn parse_multipart(content_type: &str, body: &[u8]) -> Value {
    let Some(boundary) = content_type.split("boundary=").nth(1).map(|b| b.trim_matches('"')) else {
        return json!({});
    };
    let delimiter = format!("--{boundary}");
    let mut out = serde_json::Map::new();
    let d = delimiter.as_bytes();
    let mut positions = Vec::new();
    let mut i = 0;
    while i + d.len() <= body.len() {
        if &body[i..i + d.len()] == d {
            positions.push(i);
            i += d.len();
        } else {
            i += 1;
        }
    }
    for w in positions.windows(2) {
        let part = &body[w[0] + d.len()..w[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = part.windows(4).position(|x| x == b"\r\n\r\n") else { continue };
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let content = &part[split + 4..];
        let attr = |name: &str| {
            headers
                .split(['\r', '\n', ';'])
                .find_map(|h| h.trim().strip_prefix(&format!("{name}=")).map(|v| v.trim_matches('"').to_string()))
        };
        let Some(name) = attr("name") else { continue };
        match attr("filename") {
            Some(file) => {
                // The first bytes too, so a test can read a PNG's signature and IHDR.
                let head: Vec<u8> = content.iter().take(32).copied().collect();
                out.insert(name, json!({"file_name": file, "size": content.len(), "head": head}));
            }
            None => {
                out.insert(name, json!(String::from_utf8_lossy(content)));
            }
        }
    }
    Value::Object(out)
}

/// Telegram-like HTML check: known tags, balanced, entities well formed.
pub fn html_ok(text: &str) -> bool {
    const TAGS: [&str; 16] = [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    ];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['<', '&']) {
        let tail = &rest[i..];
        if tail.starts_with('&') {
            let Some(end) = tail.find(';') else { return false };
            let name = &tail[1..end];
            let valid = matches!(name, "lt" | "gt" | "amp" | "quot")
                || name
                    .strip_prefix('#')
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()));
            if !valid {
                return false;
            }
            rest = &tail[end + 1..];
        } else {
            let Some(end) = tail.find('>') else { return false };
            let inner = &tail[1..end];
            if let Some(name) = inner.strip_prefix('/') {
                if stack.pop().as_deref() != Some(name.trim()) {
                    return false;
                }
            } else {
                let name = inner.split_whitespace().next().unwrap_or("");
                if !TAGS.contains(&name) {
                    return false;
                }
                stack.push(name.to_string());
            }
            rest = &tail[end + 1..];
        }
    }
    stack.is_empty()
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

async fn handle(State(app): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path();
    let mut segments = path.rsplit('/');
    let method = segments.next().unwrap_or("").to_ascii_lowercase();
    let token_segment = segments.next().unwrap_or("");
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let params: Value = if content_type.starts_with("multipart/form-data") {
        parse_multipart(&content_type, &body)
    } else if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).unwrap_or(json!({}))
    };
    let (status, response) = if token_segment != format!("bot{TOKEN}") {
        error(401, "Unauthorized", None)
    } else if method == "getupdates" {
        (200, get_updates(&app, &params).await)
    } else {
        let hang = take_hang(&app, &method, &params);
        let answer = respond(&app, &method, &params);
        if let Some(wait) = hang {
            tokio::time::sleep(wait).await;
        }
        answer
    };
    let mut inner = app.inner.lock().unwrap_or_else(|p| p.into_inner());
    inner.calls.push(Call { method, params, status, at: Instant::now() });
    response
}

/// A `DeliverThenHang` fault due for this send: taken here, so the message is delivered as
/// usual and only its answer is held back.
fn take_hang(app: &AppState, method: &str, params: &Value) -> Option<Duration> {
    if !matches!(method, "sendmessage" | "sendphoto" | "editmessagetext") {
        return None;
    }
    let chat = params.get("chat_id").and_then(as_i64)?;
    let mut inner = app.inner.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(queue) = inner.chat_faults.get_mut(&chat)
        && let Some(Fault::DeliverThenHang(wait)) = queue.front()
    {
        let wait = *wait;
        queue.pop_front();
        return Some(wait);
    }
    if let Some(Fault::DeliverThenHang(wait)) = inner.next_faults.front() {
        let wait = *wait;
        inner.next_faults.pop_front();
        return Some(wait);
    }
    None
}

async fn get_updates(app: &AppState, params: &Value) -> Response {
    let offset = params.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let limit = params.get("limit").and_then(Value::as_u64).unwrap_or(100).clamp(1, 100) as usize;
    let timeout = params.get("timeout").and_then(Value::as_u64).unwrap_or(0);
    let take = |inner: &mut Inner| -> Vec<Value> {
        inner.updates.retain(|(id, _)| *id >= offset);
        inner.updates.iter().take(limit).map(|(_, u)| u.clone()).collect()
    };
    let (ready, wait) = {
        let mut inner = app.inner.lock().unwrap_or_else(|p| p.into_inner());
        (take(&mut inner), inner.poll_wait)
    };
    if !ready.is_empty() || timeout == 0 {
        return ok(json!(ready));
    }
    let notified = app.updated.notified();
    let _ = tokio::time::timeout(wait.min(Duration::from_secs(timeout)), notified).await;
    let mut inner = app.inner.lock().unwrap_or_else(|p| p.into_inner());
    ok(json!(take(&mut inner)))
}

fn respond(app: &AppState, method: &str, params: &Value) -> (u16, Response) {
    let mut inner = app.inner.lock().unwrap_or_else(|p| p.into_inner());
    match method {
        "getme" => (
            200,
            ok(json!({
                "id": BOT_ID, "is_bot": true, "first_name": "Bert", "username": BOT_USERNAME,
                "can_join_groups": true, "can_read_all_group_messages": false,
                "supports_inline_queries": false, "has_main_web_app": false,
            })),
        ),
        "getwebhookinfo" => (200, ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))),
        "deletewebhook" | "setmycommands" | "answercallbackquery" | "deletemessage" | "setwebhook" => {
            (200, ok(json!(true)))
        }
        "sendmessage" | "sendphoto" | "editmessagetext" => deliver(&mut inner, method, params),
        _ => error(404, "Not Found: method not found", None),
    }
}

fn deliver(inner: &mut Inner, method: &str, params: &Value) -> (u16, Response) {
    let Some(chat) = params.get("chat_id").and_then(as_i64) else {
        return error(400, "Bad Request: chat_id is empty", None);
    };
    if let Some(f) = inner.sticky.get(&chat).cloned() {
        return fault_response(&f);
    }
    if let Some(f) = inner.chat_faults.get_mut(&chat).and_then(VecDeque::pop_front) {
        return fault_response(&f);
    }
    if let Some(f) = inner.next_faults.pop_front() {
        return fault_response(&f);
    }
    let now = Instant::now();
    if let Some(e) = inner.enforcement.as_mut()
        && let Some(violation) = e.check(chat, now)
    {
        e.violations.push(violation);
        return error(429, "Too Many Requests: retry after 1", Some(json!({"retry_after": 1})));
    }
    let (kind, text_key) = match method {
        "sendphoto" => (Kind::Photo, "caption"),
        "editmessagetext" => (Kind::Edit, "text"),
        _ => (Kind::Message, "text"),
    };
    let text = params.get(text_key).and_then(Value::as_str).unwrap_or("").to_string();
    let html = params.get("parse_mode").and_then(Value::as_str) == Some("HTML");
    if kind != Kind::Photo && text.trim().is_empty() {
        return error(400, "Bad Request: message text is empty", None);
    }
    let limit = if kind == Kind::Photo { 1024 } else { 4096 };
    if text.encode_utf16().count() > limit {
        return error(400, "Bad Request: message is too long", None);
    }
    if html && !html_ok(&text) {
        return error(400, "Bad Request: can't parse entities: Unsupported start tag at byte offset 0", None);
    }
    let reply_params = match params.get("reply_parameters") {
        Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok(),
        other => other.cloned(),
    };
    let reply_to = reply_params.as_ref().and_then(|r| r.get("message_id")).and_then(as_i64);
    let buttons = params
        .pointer("/reply_markup/inline_keyboard")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                .map(|b| {
                    (
                        b.get("text").and_then(Value::as_str).unwrap_or("").to_string(),
                        b.get("callback_data").and_then(Value::as_str).unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let message_id = if kind == Kind::Edit {
        let Some(id) = params.get("message_id").and_then(as_i64) else {
            return error(400, "Bad Request: message identifier is not specified", None);
        };
        match inner.messages.get(&(chat, id)) {
            None => return error(400, "Bad Request: message to edit not found", None),
            Some(old) if *old == text => {
                return error(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same",
                    None,
                );
            }
            Some(_) => id,
        }
    } else {
        let id = inner.next_message;
        inner.next_message += 1;
        id
    };
    inner.messages.insert((chat, message_id), text.clone());
    let photo_bytes = params.pointer("/photo/size").and_then(Value::as_u64).unwrap_or(0) as usize;
    let photo_head: Vec<u8> = params
        .pointer("/photo/head")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).map(|b| b as u8).collect())
        .unwrap_or_default();
    inner.sent.push(Sent {
        kind: kind.clone(),
        chat,
        message_id,
        text: text.clone(),
        html,
        reply_to,
        buttons,
        photo_bytes,
        photo_head,
        at: now,
    });
    let mut message = json!({
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": chat_json(chat),
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Bert", "username": BOT_USERNAME},
    });
    match kind {
        Kind::Photo => {
            message["photo"] = json!([{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}]);
            message["caption"] = json!(text);
        }
        Kind::Edit => {
            message["text"] = json!(text);
            message["edit_date"] = json!(1_700_000_001);
        }
        Kind::Message => message["text"] = json!(text),
    }
    (200, ok(message))
}

/// An outbox worker's settings for tests against this fake: Telegram's limits scaled up by
/// `scale` (the fake enforces the same scaled limits), and backoffs short enough for a test.
pub fn fast_outbox(scale: u32) -> bert::telegram::OutboxConfig {
    use std::time::Duration;
    bert::telegram::OutboxConfig {
        limits: bert::telegram::OutboxLimits::TELEGRAM.scaled(scale),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        poll: Duration::from_millis(50),
        request_timeout: Duration::from_secs(3),
        flush: Duration::from_millis(0),
        ..bert::telegram::OutboxConfig::default()
    }
}
