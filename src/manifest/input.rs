//! Reading the `-f` paths: files, directories (sorted, recursive with `-R`) and stdin, each
//! into UTF-8 text of at most [`MAX_INPUT_BYTES`].
//!
//! This is the only part of `manifest` that touches the file system or stdin. It must not
//! parse: what it reads is handed on as text.

use super::position::Positions;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Largest input accepted, per file: far above any real manifest, low enough that a mistaken
/// path (a disk image, a log) fails at once instead of filling memory.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// The extensions a directory's manifests have.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// The name stdin goes by, in `-f` and in messages.
pub const STDIN: &str = "-";

/// Why one input could not be read.
#[derive(Debug, Error)]
pub enum InputError {
    #[error("no such file or directory")]
    NotFound,
    #[error("stdin (-) can be read only once")]
    StdinTwice,
    #[error("larger than the {} MiB limit", MAX_INPUT_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("not UTF-8 text (invalid byte at line {line}:{column})")]
    NotUtf8 { line: usize, column: usize },
    #[error("UTF-16 is not supported: save the file as UTF-8")]
    Utf16,
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
}

/// One input, read, or why it could not be.
#[derive(Debug)]
pub struct Input {
    /// The path as given (or as found in a directory), `-` for stdin.
    pub name: String,
    pub text: Result<String, InputError>,
}

/// Reads every path in order, expanding directories; `stdin` is what `-` reads.
pub fn read_all(paths: &[PathBuf], recursive: bool, stdin: &mut dyn Read) -> Vec<Input> {
    let mut inputs = Vec::new();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == STDIN {
            let text = if stdin_read {
                Err(InputError::StdinTwice)
            } else {
                stdin_read = true;
                read_limited(&mut *stdin).and_then(decode)
            };
            inputs.push(Input {
                name: STDIN.to_owned(),
                text,
            });
        } else {
            read_path(path, true, recursive, &mut inputs);
        }
    }
    inputs
}

/// Reads a file, or the manifests of a directory: those at its top, or (`recursive`) all,
/// depth first, each level sorted by name.
fn read_path(path: &Path, top: bool, recursive: bool, inputs: &mut Vec<Input>) {
    let name = path.display().to_string();
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() && (top || recursive) => match sorted_entries(path) {
            Ok(entries) => {
                for entry in entries {
                    read_path(&entry, false, recursive, inputs);
                }
            }
            Err(error) => inputs.push(Input {
                name,
                text: Err(error.into()),
            }),
        },
        Ok(meta) if meta.is_dir() => {}
        // A file named on the command line is read whatever its name.
        Ok(_) if top || has_manifest_extension(path) => inputs.push(Input {
            name,
            text: read_file(path),
        }),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => inputs.push(Input {
            name,
            text: Err(InputError::NotFound),
        }),
        Err(error) => inputs.push(Input {
            name,
            text: Err(error.into()),
        }),
    }
}

/// A directory's entries sorted by name. Symbolic links to directories are left out so that
/// `-R` cannot loop.
fn sorted_entries(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let is_linked_dir = entry.file_type()?.is_symlink() && entry.path().is_dir();
        if !is_linked_dir {
            entries.push(entry.path());
        }
    }
    entries.sort();
    Ok(entries)
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| EXTENSIONS.contains(&ext))
}

fn read_file(path: &Path) -> Result<String, InputError> {
    let file = fs::File::open(path)?;
    if file.metadata()?.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge);
    }
    read_limited(file).and_then(decode)
}

/// Reads to the end, refusing more than [`MAX_INPUT_BYTES`] (a pipe has no size to check).
fn read_limited(reader: impl Read) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge);
    }
    Ok(bytes)
}

/// UTF-8 text without its byte order mark.
pub fn decode(bytes: Vec<u8>) -> Result<String, InputError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(InputError::Utf16);
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(error) => {
            let offset = error.utf8_error().valid_up_to();
            let (line, column) = Positions::new(error.as_bytes()).at(offset);
            Err(InputError::NotUtf8 { line, column })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_strips_a_byte_order_mark() {
        let text = decode(b"\xEF\xBB\xBFkind: A\n".to_vec()).unwrap();
        assert_eq!(text, "kind: A\n");
    }

    #[test]
    fn utf16_is_refused_by_its_byte_order_mark() {
        for bom in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            let mut bytes = bom.to_vec();
            bytes.extend_from_slice(b"k\0i\0");
            assert!(matches!(decode(bytes), Err(InputError::Utf16)));
        }
    }

    #[test]
    fn an_invalid_byte_is_placed() {
        let error = decode(b"ok: 1\nname: \xC3(\n".to_vec()).unwrap_err();
        assert!(
            matches!(error, InputError::NotUtf8 { line: 2, column: 7 }),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "not UTF-8 text (invalid byte at line 2:7)"
        );
    }

    #[test]
    fn reading_stops_past_the_limit() {
        let endless = std::io::repeat(0);
        assert!(matches!(read_limited(endless), Err(InputError::TooLarge)));
        assert_eq!(read_limited(&b"abc"[..]).unwrap(), b"abc");
    }
}
