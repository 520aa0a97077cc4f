//! Output modes and HTML escaping for the chat surface.

use std::borrow::Cow;

/// How a message is marked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Telegram's `parse_mode=HTML`: every interpolated value is escaped, symbols are bold,
    /// ids are `<code>` (tap to copy).
    Html,
    /// No markup at all: the console, logs, and the plain-text resend Bert falls back to when
    /// Telegram cannot parse a message's entities.
    Plain,
}

/// Escapes text for Telegram's HTML parse mode: `&`, `<`, `>` (required by the Bot API) and
/// `"` (so the value is also safe inside an attribute). Borrowed when nothing needs escaping,
/// which is the common case for the numbers and asset codes Bert prints.
pub fn escape_html(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Removes control characters (except newlines and tabs) from text that came from outside
/// (user input echoed back, exchange error messages), so it cannot garble a chat or a terminal.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect())
}

/// At most `max` characters of `text` (not bytes: never cuts a character), with `…` when cut.
pub fn truncate_chars(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((i, _)) => Cow::Owned(format!("{}…", &text[..i])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_four_characters() {
        assert_eq!(escape_html("<b>&\"x\"</b>"), "&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;");
        assert!(matches!(escape_html("BTC 43,000.00"), Cow::Borrowed(_)));
        assert_eq!(escape_html("ß→🚀"), "ß→🚀");
    }

    #[test]
    fn sanitizes_and_truncates() {
        assert_eq!(sanitize("a\u{0}b\u{1b}[31mc\nd"), "ab[31mc\nd");
        assert_eq!(truncate_chars("🚀🚀🚀", 2), "🚀🚀…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }
}
