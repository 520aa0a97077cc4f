//! Splitting long messages to fit Telegram's size limit.
//!
//! Telegram accepts "1-4096 characters after entities parsing". What a "character" is there is
//! not documented precisely (entity offsets are UTF-16 code units; one live test saw Unicode
//! scalar values), so Bert measures the most conservative way: **UTF-16 code units of the raw
//! text, markup included**. Markup and entities only shrink when Telegram parses them, and a
//! character is never fewer UTF-16 units than scalar values, so a part that fits by this
//! measure fits whatever Telegram counts. The cost is a few more splits for emoji-heavy HTML,
//! which is irrelevant for Bert's alerts.

/// Telegram's message size limit (see the module docs for the unit).
pub const TELEGRAM_LIMIT: usize = 4096;

fn units(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Splits `text` into parts of at most `limit` UTF-16 code units, cutting between lines.
///
/// A single line longer than the limit is cut inside, preferring a space in the second half of
/// the part, and never inside an HTML tag, an entity (`&amp;`) or a tagged span (`<b>…</b>`)
/// when a safe place exists; otherwise it is cut at the limit (always on a character
/// boundary). Newlines at the cuts are dropped; parts that would be blank are left out, so
/// empty or blank text gives no parts. A single character is never split, so a `limit` below 2
/// is treated as 2.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(2);
    let mut parts: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_units = 0;
    let flush = |current: &mut String, parts: &mut Vec<String>| {
        let part = std::mem::take(current);
        let trimmed = part.trim_end_matches('\n');
        if !trimmed.trim().is_empty() {
            parts.push(trimmed.to_owned());
        }
    };
    for line in text.split('\n') {
        let line_units = units(line);
        let sep = usize::from(!current.is_empty());
        if current_units + sep + line_units <= limit {
            if sep == 1 {
                current.push('\n');
            }
            current.push_str(line);
            current_units += sep + line_units;
            continue;
        }
        flush(&mut current, &mut parts);
        current_units = 0;
        if line_units <= limit {
            current.push_str(line);
            current_units = line_units;
            continue;
        }
        let mut pieces = hard_split(line, limit);
        let last = pieces.pop();
        for mut piece in pieces {
            flush(&mut piece, &mut parts);
        }
        if let Some(last) = last {
            current_units = units(&last);
            current = last;
        }
    }
    flush(&mut current, &mut parts);
    parts
}

/// Cuts one line (no newlines) into pieces of at most `limit` units.
fn hard_split(line: &str, limit: usize) -> Vec<String> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let safe = safe_cuts(&chars);
    let mut pieces = Vec::new();
    let mut start = 0; // index into `chars`
    while start < chars.len() {
        // The furthest end (exclusive char index) that fits.
        let mut end = start;
        let mut used = 0;
        while end < chars.len() && used + chars[end].1.len_utf16() <= limit {
            used += chars[end].1.len_utf16();
            end += 1;
        }
        if end == chars.len() {
            pieces.push(line[chars[start].0..].to_owned());
            break;
        }
        let end = end.max(start + 1); // progress even if one character exceeds the limit
        let half = start + (end - start) / 2;
        let cut = (half.max(start + 1)..=end)
            .rev()
            .find(|&i| safe[i] && chars[i].1 == ' ')
            .or_else(|| (start + 1..=end).rev().find(|&i| safe[i]))
            .unwrap_or(end);
        let byte_end = chars.get(cut).map_or(line.len(), |c| c.0);
        pieces.push(line[chars[start].0..byte_end].to_owned());
        // A space at the cut goes with neither piece.
        start = if chars.get(cut).is_some_and(|c| c.1 == ' ') { cut + 1 } else { cut };
    }
    pieces
}

/// `safe[i]`: cutting before char `i` splits no tag, entity or tagged span. `safe[len]` is true.
fn safe_cuts(chars: &[(usize, char)]) -> Vec<bool> {
    let mut safe = Vec::with_capacity(chars.len() + 1);
    let mut in_tag = false;
    let mut closing = false;
    let mut tag_len = 0;
    let mut in_entity = false;
    let mut depth: usize = 0;
    for (i, &(_, c)) in chars.iter().enumerate() {
        if in_entity && !(c.is_ascii_alphanumeric() || c == '#' || c == ';') {
            in_entity = false; // a bare `&`, not an entity
        }
        safe.push(!in_tag && !in_entity && depth == 0);
        if in_tag {
            if tag_len == 0 && c == '/' {
                closing = true;
            }
            tag_len += 1;
            if c == '>' {
                in_tag = false;
                let self_closing = i > 0 && chars[i - 1].1 == '/';
                if closing {
                    depth = depth.saturating_sub(1);
                } else if !self_closing {
                    depth += 1;
                }
            }
        } else if in_entity {
            if c == ';' {
                in_entity = false;
            }
        } else if c == '<' && chars.get(i + 1).is_some_and(|n| n.1.is_ascii_alphabetic() || n.1 == '/') {
            in_tag = true;
            closing = false;
            tag_len = 0;
        } else if c == '&' {
            in_entity = true;
        }
    }
    safe.push(true);
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(parts: &[String], limit: usize) {
        for p in parts {
            assert!(units(p) <= limit, "part of {} units > {limit}: {p:?}", units(p));
            assert!(!p.trim().is_empty());
        }
    }

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_message("hello\nworld", 4096), vec!["hello\nworld"]);
        assert_eq!(split_message("", 4096), Vec::<String>::new());
        assert_eq!(split_message("\n \n", 4096), Vec::<String>::new());
    }

    #[test]
    fn splits_on_line_boundaries() {
        let text = "aaaa\nbbbb\ncccc";
        assert_eq!(split_message(text, 9), vec!["aaaa\nbbbb", "cccc"]);
        assert_eq!(split_message(text, 8), vec!["aaaa", "bbbb", "cccc"]);
        // Exactly at the limit: the newline counts.
        assert_eq!(split_message("aaaa\nbbbb", 9), vec!["aaaa\nbbbb"]);
        // Blank lines inside a part are kept, at a cut they are dropped.
        assert_eq!(split_message("a\n\nb", 10), vec!["a\n\nb"]);
        assert_eq!(split_message("aaaa\n\nbbbb", 5), vec!["aaaa", "bbbb"]);
    }

    #[test]
    fn long_line_is_cut_at_a_space_or_hard() {
        let line = "word ".repeat(10); // 50 chars
        let parts = split_message(line.trim_end(), 12);
        check(&parts, 12);
        assert_eq!(parts.join(" "), line.trim_end());
        let solid = "x".repeat(25);
        let parts = split_message(&solid, 10);
        assert_eq!(parts, vec!["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    }

    #[test]
    fn counts_utf16_units_and_never_cuts_a_character() {
        let rockets = "🚀".repeat(5); // 2 units each
        let parts = split_message(&rockets, 4);
        assert_eq!(parts, vec!["🚀🚀", "🚀🚀", "🚀"]);
        let parts = split_message(&rockets, 3);
        check(&parts, 3);
        assert_eq!(parts.concat(), rockets);
        assert_eq!(split_message("🚀", 1), vec!["🚀"], "a limit below 2 is 2");
        let cyr = "Ж".repeat(9);
        assert_eq!(split_message(&cyr, 4).concat(), cyr);
    }

    #[test]
    fn avoids_cutting_tags_and_entities() {
        let line = "aaaaaaa <b>BTC</b> &amp;&amp; bbbbbbbb";
        for limit in 2..line.len() {
            let parts = split_message(line, limit);
            check(&parts, limit);
            assert_eq!(parts.concat().replace(' ', ""), line.replace(' ', ""));
            // Below 10 units `<b>BTC</b>` cannot fit whole: then it is cut hard, as documented.
            if limit < 10 {
                continue;
            }
            for p in &parts {
                assert_eq!(p.matches("<b>").count(), p.matches("</b>").count(), "limit {limit}: {parts:?}");
                let amps = p.matches('&').count();
                assert_eq!(amps, p.matches("&amp;").count(), "limit {limit}: {parts:?}");
            }
        }
        // With no safe place at all, it still makes progress.
        let parts = split_message(&format!("<b>{}</b>", "y".repeat(30)), 10);
        check(&parts, 10);
        assert_eq!(parts.concat(), format!("<b>{}</b>", "y".repeat(30)));
    }

    #[test]
    fn plain_text_with_angle_brackets_still_splits() {
        let text = format!("a < b & c {}", "z ".repeat(40));
        let parts = split_message(&text, 16);
        check(&parts, 16);
    }

    #[test]
    fn telegram_sized_message() {
        let line = "0123456789".repeat(50); // 500 chars
        let text = vec![line; 20].join("\n"); // ~10k chars
        let parts = split_message(&text, TELEGRAM_LIMIT);
        check(&parts, TELEGRAM_LIMIT);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.join("\n"), text);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_respects_the_limit(text in "\\PC{0,300}", limit in 0usize..50) {
            let parts = split_message(&text, limit);
            for p in &parts {
                proptest::prop_assert!(units(p) <= limit.max(2));
            }
        }

        #[test]
        fn keeps_every_non_space_character(text in "[a-z <>&;/\n🚀]{0,200}", limit in 2usize..40) {
            let parts = split_message(&text, limit);
            let kept: String = parts.concat().chars().filter(|c| !c.is_whitespace()).collect();
            let all: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            proptest::prop_assert_eq!(kept, all);
        }
    }
}
