//! The one sanitiser of text kos writes to a terminal or a CI log: whatever came from the
//! cluster or an input file (image names, Event reasons and messages, condition messages,
//! log lines, API errors) is shown, never obeyed.
//!
//! C0 controls (U+0000–U+001F), DEL (U+007F), C1 controls (U+0080–U+009F) and the
//! bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E,
//! U+2066–U+2069) are written as escapes: `\n`, `\r` and `\t` as such, every other one as `\u{1b}` (its code point in hex).
//! A cleaned text is therefore one line that holds no escape sequence. Backslashes are left
//! alone, so cleaning twice changes nothing — the sink can clean lines that were already
//! cleaned piece by piece.
//!
//! It owns the escaping only; writing lines is [`super::sink`]'s.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is a control character a terminal may act on, or a bidirectional formatting
/// character: a terminal that honours those shows the text around them reordered, so a
/// pod's name or a log line could make what follows read as something else ("Trojan
/// Source", CVE-2021-42574).
pub fn is_control(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// `text` with every control character escaped: one line, no escape sequences.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// [`clean`], cut to at most `max` bytes of the original text (on a character boundary)
/// with a note of how much was left out: for quoting what a server sent, which may be a
/// gigabyte.
pub fn clean_bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return clean(text).into_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", clean(&text[..end]), text.len() - end)
}

/// The foreground colours (and reset) kos itself paints status words with: the only escape
/// sequences a line may keep. Untrusted pieces are cleaned before they are painted, so none
/// of them can bring one along.
const OWN_COLOURS: &[&str] = &["0", "31", "32", "33", "34", "35"];

/// One line for the terminal: [`clean`], except that kos's own colour codes
/// (`ESC [ 31 m` …) are kept.
pub fn line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = own_colour(rest) {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        push_escaped(&mut out, c);
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The length of the colour code `text` starts with, if it is one of [`OWN_COLOURS`].
fn own_colour(text: &str) -> Option<usize> {
    let body = text.strip_prefix("\x1b[")?;
    let end = body.find('m')?;
    OWN_COLOURS.contains(&&body[..end]).then_some(2 + end + 1)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_control(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// JSON text with DEL, C1 controls and bidirectional overrides written as `\uXXXX` escapes too (`serde_json` escapes
/// C0 only): the document decodes to the same strings, and no terminal that shows it acts
/// on them. Outside strings JSON holds ASCII only, so every such character is inside one.
pub fn json(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) && c != '\n' {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The attack of issue 14: retitle, clipboard write, clear screen, cursor report.
    const HOSTILE: &str = "nginx\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07\x1b[6n\u{9b}1m";

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(
            clean(HOSTILE),
            "nginx\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{1b}]52;c;ZWNobyBoaQ==\\u{7}\\u{1b}[6n\\u{9b}1m"
        );
        assert_eq!(clean("a\tb\r\nc\u{7f}"), "a\\tb\\r\\nc\\u{7f}");
        assert!(matches!(clean("plain ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn bidirectional_overrides_are_shown_not_applied() {
        assert_eq!(
            clean("ok\u{202e}deliaf\u{202c} \u{2067}x\u{2069}\u{200f}"),
            "ok\\u{202e}deliaf\\u{202c} \\u{2067}x\\u{2069}\\u{200f}"
        );
        assert!(matches!(clean("עברית and العربية"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_line_keeps_only_kos_colours() {
        let painted = format!("\x1b[31mfailed\x1b[0m  {}", clean(HOSTILE));
        assert_eq!(line(&painted), painted);
        assert_eq!(line("\x1b[8mhidden"), "\\u{1b}[8mhidden");
        assert_eq!(line("\x1b[31"), "\\u{1b}[31");
    }

    #[test]
    fn bounded_quotes_say_what_they_left_out() {
        let text = "é".repeat(10);
        assert_eq!(clean_bounded(&text, 5), "éé… (16 more bytes)");
        assert_eq!(clean_bounded("short\n", 100), "short\\n");
    }

    #[test]
    fn json_escapes_del_and_c1_and_stays_the_same_document() {
        let value = serde_json::json!({"message": HOSTILE});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let safe = json(&text);
        assert!(!safe.chars().any(|c| is_control(c) && c != '\n'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }

    proptest! {
        #[test]
        fn cleaned_text_is_one_line_without_controls_and_cleaning_is_idempotent(
            text in any::<String>()
        ) {
            let once = clean(&text).into_owned();
            prop_assert!(!once.chars().any(is_control));
            prop_assert_eq!(clean(&once), once.as_str());
            prop_assert!(!line(&text).chars().any(|c| is_control(c) && c != '\x1b'));
        }

        #[test]
        fn a_line_lets_no_escape_through_but_kos_colours(text in "[\\x00-\\x20\\[0-9;m\\x7f-\\u{a0}a]{0,40}") {
            let out = line(&text).into_owned();
            let mut rest = out.as_str();
            while let Some(at) = rest.find('\x1b') {
                let len = own_colour(&rest[at..]);
                prop_assert!(len.is_some(), "{:?}", out);
                rest = &rest[at + len.unwrap_or(1)..];
            }
        }

        #[test]
        fn bounded_text_stays_near_its_bound(text in any::<String>(), max in 0usize..64) {
            let out = clean_bounded(&text, max);
            prop_assert!(!out.chars().any(is_control));
            prop_assert!(out.len() <= max * 9 + 40);
        }

        #[test]
        fn json_of_any_text_decodes_back(text in any::<String>()) {
            let encoded = serde_json::to_string(&text).unwrap();
            let safe = json(&encoded);
            prop_assert!(!safe.chars().any(is_control));
            let back: String = serde_json::from_str(&safe).unwrap();
            prop_assert_eq!(back, text);
        }
    }
}
