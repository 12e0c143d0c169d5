//! Where every line kos writes to stdout and stderr goes: each through the sanitiser
//! ([`super::safe::line`]), one line at a time, and a reader that went away (`kos … | head
//! -1`) ends kos quietly instead of with a panic.
//!
//! It owns writing the standard streams; what the lines say is decided by their callers.
//! The full-screen view owns the terminal while it runs and never writes through here.

use super::safe;
use crate::exit::ExitCode;
use std::io::{self, Write};

/// Writes each line of `text` to stdout, cleaned. A closed stdout ends the process at once
/// with [`ExitCode::BrokenPipe`], silently, as a Unix tool ended by SIGPIPE.
pub fn out(text: &str) {
    if let Err(error) = write_lines(&mut io::stdout().lock(), text) {
        gone(&error);
    }
}

/// Writes each line of `text` to stderr, cleaned. Errors are ignored: there is nowhere left
/// to tell them.
pub fn err(text: &str) {
    let _ = write_lines(&mut io::stderr().lock(), text);
}

/// Writes raw bytes that kos made itself (completion scripts, the manual page) to stdout,
/// with the same quiet end when the reader went away.
pub fn out_raw(bytes: &[u8]) {
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        gone(&error);
    }
}

/// Each `\n`-separated line of `text`, cleaned, with its own line end. A text that ends with
/// a line end gives no empty line after it.
pub fn write_lines(writer: &mut impl Write, text: &str) -> io::Result<()> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    for line in text.split('\n') {
        writer.write_all(safe::line(line).as_bytes())?;
        writer.write_all(b"\n")?;
    }
    writer.flush()
}

/// A write to stdout failed: the reader left (exit quietly) or something else broke (say so
/// once on stderr, and end as a local I/O problem).
fn gone(error: &io::Error) -> ! {
    let code = if error.kind() == io::ErrorKind::BrokenPipe {
        ExitCode::BrokenPipe
    } else {
        err(&format!("error: cannot write to stdout: {error}"));
        ExitCode::Cluster
    };
    std::process::exit(i32::from(code as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_cleaned_and_ends_once() {
        let mut out = Vec::new();
        write_lines(&mut out, "a\x1b[2J\nb\u{9b}\n").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\\u{1b}[2J\nb\\u{9b}\n");
        let mut out = Vec::new();
        write_lines(&mut out, "one").unwrap();
        assert_eq!(out, b"one\n");
    }
}
