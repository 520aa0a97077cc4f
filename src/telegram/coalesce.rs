//! Text helpers of the outbox: merging queued alerts into fewer messages, measuring them the
//! way [`crate::chat::split_message`] does, and turning HTML into plain text for the resend
//! after Telegram could not parse a message's entities.

/// Between two merged alerts: a blank line, so each still reads as its own message.
pub const SEPARATOR: &str = "\n\n";

/// The length Telegram's limit is checked against: UTF-16 code units of the raw text, markup
/// included (the conservative measure of `chat::split_message`).
pub fn units(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// How many of `texts`, from the first, fit in one message of at most `limit` units when
/// joined with [`SEPARATOR`]. At least 1 (a single text is sent, split if it must be, even when
/// it alone is over the limit), 0 only for an empty slice.
pub fn fits(texts: &[String], limit: usize) -> usize {
    let mut total = 0;
    for (i, t) in texts.iter().enumerate() {
        let add = units(t) + if i == 0 { 0 } else { units(SEPARATOR) };
        if i > 0 && total + add > limit {
            return i;
        }
        total += add;
    }
    texts.len()
}

/// Telegram HTML to plain text: tags dropped, entities decoded (`&lt;` `&gt;` `&amp;` `&quot;`
/// and numeric ones; anything else that looks like an entity is kept as typed). A `<` that
/// does not start a tag (cannot happen in Bert's escaped output, but this is the fallback for
/// broken markup) is kept.
pub fn html_to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix('<') {
            let is_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/');
            match tail.find('>') {
                Some(end) if is_tag => {
                    rest = &tail[end + 1..];
                }
                _ => {
                    out.push('<');
                    rest = after;
                }
            }
        } else {
            let decoded = tail.find(';').filter(|&end| end <= 10).and_then(|end| {
                let name = &tail[1..end];
                let c = match name {
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "amp" => Some('&'),
                    "quot" => Some('"'),
                    _ => name.strip_prefix('#').and_then(|n| {
                        let code = match n.strip_prefix(['x', 'X']) {
                            Some(hex) => u32::from_str_radix(hex, 16).ok(),
                            None => n.parse::<u32>().ok(),
                        };
                        code.and_then(char::from_u32)
                    }),
                };
                c.map(|c| (c, end))
            });
            match decoded {
                Some((c, end)) => {
                    out.push(c);
                    rest = &tail[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = &tail[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_from_html() {
        assert_eq!(
            html_to_plain("<b>BTC</b> &lt;up&gt; P&amp;L &quot;x&quot; &#8364; &#x41;"),
            "BTC <up> P&L \"x\" € A"
        );
        assert_eq!(html_to_plain("a < b & c"), "a < b & c");
        assert_eq!(html_to_plain("<a href=\"x\">link</a><code>1</code>"), "link1");
        assert_eq!(html_to_plain("&unknown; &"), "&unknown; &");
        assert_eq!(html_to_plain("broken <b"), "broken <b");
        assert_eq!(html_to_plain("🚀 <i>ü</i>"), "🚀 ü");
    }

    #[test]
    fn merging_counts_separators() {
        let texts: Vec<String> = vec!["a".repeat(10), "b".repeat(10), "c".repeat(10)];
        assert_eq!(fits(&texts, 22), 2);
        assert_eq!(fits(&texts, 21), 1);
        assert_eq!(fits(&texts, 34), 3);
        assert_eq!(fits(&texts, 5), 1, "the first always goes");
        assert_eq!(fits(&[], 5), 0);
        assert_eq!(units("🚀"), 2);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = html_to_plain(&s);
            let _ = html_to_plain(&format!("&{s};<{s}>"));
        }
    }
}
