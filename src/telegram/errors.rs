//! What a Bot API answer means for a queued message (the outcome table of the reference notes,
//! §17), and keeping the bot token out of every error text.
//!
//! The outbox classifies answers itself, from the HTTP status, the `description` and the
//! `parameters` of Telegram's error body, instead of going through teloxide's `RequestError`:
//! teloxide sleeps 10 s on every 5xx before it even reads the body (a hidden delay the worker's
//! own backoff must not stack on), maps "bot was kicked from the group chat" to `Unknown`, and
//! hides the status code.

use std::time::Duration;

/// Why a send did not deliver, and so what the worker does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// 429: wait this long before sending to this chat again (other chats keep flowing).
    RetryAfter(Duration),
    /// The group became a supergroup with this id: readdress the chat's rows and resend.
    Migrated(i64),
    /// The chat will never accept messages from the bot again as things stand (blocked,
    /// kicked, deleted, deactivated): its rows go to the dead letters.
    ChatGone(String),
    /// The HTML did not parse: resend as plain text.
    CantParse(String),
    /// Over Telegram's size limit despite the split: split finer.
    TooLong,
    /// An edit that changes nothing: as good as delivered.
    NotModified,
    /// The message to edit is gone or too old to edit: the edit can never be applied.
    EditImpossible(String),
    /// The token is wrong (401, or 404 for an unknown bot): nothing can be sent; pause
    /// everything and keep the rows.
    Unauthorized(String),
    /// 5xx, a network error, a timeout, an unreadable answer: try again later with backoff.
    Transient(String),
    /// Any other refusal (a 400 Bert does not know): retried a few times, then dead-lettered.
    Rejected(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::RetryAfter(d) => write!(f, "flood control: retry after {} s", d.as_secs_f64()),
            SendError::Migrated(id) => write!(f, "the group was migrated to supergroup {id}"),
            SendError::ChatGone(d) => write!(f, "chat unreachable: {d}"),
            SendError::CantParse(d) => write!(f, "entities not parsed: {d}"),
            SendError::TooLong => f.write_str("message is too long"),
            SendError::NotModified => f.write_str("message is not modified"),
            SendError::EditImpossible(d) => write!(f, "cannot edit: {d}"),
            SendError::Unauthorized(d) => write!(f, "unauthorized (check TELEGRAM_BOT_TOKEN): {d}"),
            SendError::Transient(d) => write!(f, "transient failure: {d}"),
            SendError::Rejected(d) => write!(f, "rejected: {d}"),
        }
    }
}

impl std::error::Error for SendError {}

/// The error fields of a Bot API answer (`{"ok":false,"error_code":..,"description":..,
/// "parameters":{..}}`), already extracted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiFailure {
    pub status: u16,
    pub description: String,
    pub retry_after: Option<u64>,
    pub migrate_to: Option<i64>,
}

/// Descriptions (lower-cased substrings) meaning the chat cannot be written to any more.
/// Telegram's texts: "Forbidden: bot was blocked by the user", "Forbidden: bot was kicked from
/// the group chat" (and "...supergroup chat", "...channel chat"), "Forbidden: user is
/// deactivated", "Bad Request: chat not found", "Forbidden: bot can't initiate conversation
/// with a user", "Forbidden: the group chat was deleted", "Bad Request: group chat was
/// deactivated", "Forbidden: bot is not a member of the ... chat", "Bad Request: not enough
/// rights to send text messages to the chat", "Bad Request: have no rights to send a message".
const GONE: [&str; 10] = [
    "bot was blocked",
    "bot was kicked",
    "user is deactivated",
    "chat not found",
    "can't initiate conversation",
    "chat was deleted",
    "chat was deactivated",
    "bot is not a member",
    "not enough rights to send",
    "have no rights to send",
];

/// Maps a failed answer to what the worker should do.
pub fn classify(failure: &ApiFailure) -> SendError {
    let description = failure.description.clone();
    if let Some(secs) = failure.retry_after {
        // A zero would make the worker spin; Telegram never sends it, a fake might.
        return SendError::RetryAfter(Duration::from_secs(secs.max(1)));
    }
    if let Some(id) = failure.migrate_to {
        return SendError::Migrated(id);
    }
    let lower = description.to_ascii_lowercase();
    if failure.status == 429 {
        // Flood control without `retry_after`: be conservative.
        return SendError::RetryAfter(Duration::from_secs(5));
    }
    if failure.status >= 500 || failure.status == 0 {
        return SendError::Transient(description);
    }
    if failure.status == 401 || (failure.status == 404 && lower.contains("not found") && !lower.contains("chat")) {
        return SendError::Unauthorized(description);
    }
    if lower.contains("can't parse entities") || lower.contains("can't find end of the entity") {
        return SendError::CantParse(description);
    }
    if lower.contains("message is too long") || lower.contains("text is too long") {
        return SendError::TooLong;
    }
    if lower.contains("message is not modified") {
        return SendError::NotModified;
    }
    if lower.contains("message to edit not found") || lower.contains("message can't be edited") {
        return SendError::EditImpossible(description);
    }
    if failure.status == 403 || GONE.iter().any(|g| lower.contains(g)) {
        return SendError::ChatGone(description);
    }
    SendError::Rejected(description)
}

/// Removes the bot token from a text that may contain a request URL (`…/bot<token>/sendMessage`)
/// or the token itself. Every error text from reqwest or teloxide passes through this before it
/// is logged or returned: reqwest puts the URL in its errors, and teloxide redacts the token
/// only when it is the first path segment and has the usual shape.
pub fn mask_token(text: &str, token: &str) -> String {
    let mut out = if token.is_empty() { text.to_owned() } else { text.replace(token, "***") };
    // Anything after `/bot` up to the next `/`, whitespace, quote or bracket is a token.
    let mut from = 0;
    while let Some(pos) = out[from..].find("/bot") {
        let start = from + pos + 4;
        let end = out[start..]
            .find(|c: char| c == '/' || c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '>' | ']'))
            .map_or(out.len(), |e| start + e);
        if end > start && &out[start..end] != "***" {
            out.replace_range(start..end, "***");
        }
        from = (start + 3).min(out.len());
    }
    out
}

/// An error and its sources on one line, masked: what the bot logs for teloxide errors (whose
/// own text is often just "error sending request").
pub fn describe(error: &dyn std::error::Error, token: &str) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    mask_token(&text, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(status: u16, description: &str) -> ApiFailure {
        ApiFailure { status, description: description.into(), ..Default::default() }
    }

    #[test]
    fn outcome_table() {
        let retry = ApiFailure { status: 429, retry_after: Some(3), ..f(429, "Too Many Requests: retry after 3") };
        assert_eq!(classify(&retry), SendError::RetryAfter(Duration::from_secs(3)));
        let migrate = ApiFailure { migrate_to: Some(-1001), ..f(400, "Bad Request: group chat was upgraded") };
        assert_eq!(classify(&migrate), SendError::Migrated(-1001));
        for gone in [
            f(403, "Forbidden: bot was blocked by the user"),
            f(403, "Forbidden: bot was kicked from the group chat"),
            f(403, "Forbidden: bot was kicked from the supergroup chat"),
            f(403, "Forbidden: user is deactivated"),
            f(400, "Bad Request: chat not found"),
            f(403, "Forbidden: bot can't initiate conversation with a user"),
        ] {
            assert!(matches!(classify(&gone), SendError::ChatGone(_)), "{gone:?}");
        }
        assert!(matches!(
            classify(&f(400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0")),
            SendError::CantParse(_)
        ));
        assert_eq!(classify(&f(400, "Bad Request: message is too long")), SendError::TooLong);
        assert_eq!(
            classify(&f(400, "Bad Request: message is not modified: specified new message content")),
            SendError::NotModified
        );
        assert!(matches!(classify(&f(400, "Bad Request: message to edit not found")), SendError::EditImpossible(_)));
        assert!(matches!(classify(&f(502, "Bad Gateway")), SendError::Transient(_)));
        assert!(matches!(classify(&f(0, "connection refused")), SendError::Transient(_)));
        assert!(matches!(classify(&f(401, "Unauthorized")), SendError::Unauthorized(_)));
        assert!(matches!(classify(&f(404, "Not Found")), SendError::Unauthorized(_)));
        assert!(matches!(classify(&f(400, "Bad Request: something new")), SendError::Rejected(_)));
        assert!(matches!(classify(&f(429, "Too Many Requests")), SendError::RetryAfter(_)));
    }

    #[test]
    fn masks_tokens_in_urls_and_text() {
        let token = "123456:ABC-secret";
        let text = "error sending request for url (http://127.0.0.1:9/bot123456:ABC-secret/sendMessage): refused";
        let masked = mask_token(text, token);
        assert!(!masked.contains("ABC-secret"), "{masked}");
        assert!(masked.contains("/bot***/sendMessage"), "{masked}");
        // A token of another shape, or a different token in a URL, is masked too.
        let masked = mask_token("GET http://h/prefix/botOTHER/getMe failed", token);
        assert_eq!(masked, "GET http://h/prefix/bot***/getMe failed");
        assert_eq!(mask_token("plain text", token), "plain text");
        assert_eq!(mask_token("ends with /bot", token), "ends with /bot");
        assert_eq!(mask_token("token 123456:ABC-secret leaked", token), "token *** leaked");
    }
}
