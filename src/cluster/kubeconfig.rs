//! Reading kubeconfig files as kubectl does, safely: `--kubeconfig FILE`, else the
//! `KUBECONFIG` list (empty and missing entries skipped, the rest merged, first wins), else
//! `~/.kube/config`. Each file is read to at most [`MAX_BYTES`] (`--kubeconfig /dev/zero`
//! ends at once), and a `tokenFile` is read and trimmed of its line end, as kubectl does.
//!
//! Errors name the file and the line, never its content: a kubeconfig holds tokens and
//! client keys, and a YAML error's excerpt would print them. It reads files; building a
//! client is the parent module's.

use kube::config::{Kubeconfig, KubeconfigError};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest kubeconfig kos reads. Real ones are kilobytes; a few MiB of embedded
/// certificates is already unusual.
pub const MAX_BYTES: u64 = 4 << 20;

/// The largest tokenFile kos reads (tokens are a few KiB).
const MAX_TOKEN_BYTES: u64 = 64 << 10;

/// Why no kubeconfig could be read.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("cannot read the kubeconfig {}: {reason}", .path.display())]
    Read { path: PathBuf, reason: String },
    #[error("the kubeconfig {} is not valid YAML for a kubeconfig{at} (its content is not shown)", .path.display())]
    Parse { path: PathBuf, at: String },
    #[error("the kubeconfig {} is larger than {} MiB", .path.display(), MAX_BYTES >> 20)]
    TooLarge { path: PathBuf },
    #[error("cannot merge the kubeconfig {}: {source}", .path.display())]
    Merge {
        path: PathBuf,
        #[source]
        source: KubeconfigError,
    },
    #[error("no kubeconfig: none of the files in KUBECONFIG exists ({0})")]
    NoneOfTheList(String),
    #[error("no kubeconfig: set --kubeconfig or KUBECONFIG, or write ~/.kube/config")]
    NoHome,
    #[error("cannot read the tokenFile {} of user {user}: {reason}", .path.display())]
    TokenFile {
        user: String,
        path: PathBuf,
        reason: String,
    },
}

/// The kubeconfig kubectl would use: `explicit` (`--kubeconfig`), else `KUBECONFIG`, else
/// `~/.kube/config`.
pub fn load(explicit: Option<&Path>) -> Result<Kubeconfig, Problem> {
    let list = std::env::var_os("KUBECONFIG");
    let mut config = match (explicit, list) {
        (Some(path), _) => read(path)?,
        (None, Some(list)) if !list.is_empty() => read_list(&list)?,
        _ => read(&default_path().ok_or(Problem::NoHome)?)?,
    };
    inline_token_files(&mut config)?;
    super::exec_guard::guard_plugins(&mut config);
    Ok(config)
}

fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube").join("config"))
}

/// The files of a `KUBECONFIG` list, merged; entries that do not exist are skipped, as
/// kubectl skips them.
fn read_list(list: &std::ffi::OsStr) -> Result<Kubeconfig, Problem> {
    let paths: Vec<PathBuf> = std::env::split_paths(list)
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    let mut merged: Option<Kubeconfig> = None;
    for path in paths.iter().filter(|p| p.exists()) {
        let next = read(path)?;
        merged = Some(match merged {
            None => next,
            Some(first) => first.merge(next).map_err(|source| Problem::Merge {
                path: path.clone(),
                source,
            })?,
        });
    }
    merged.ok_or_else(|| {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        Problem::NoneOfTheList(names.join(", "))
    })
}

/// One kubeconfig file, its relative paths made absolute against its folder.
pub fn read(path: &Path) -> Result<Kubeconfig, Problem> {
    let text = read_bounded(path, MAX_BYTES).map_err(|error| match error {
        Bounded::TooLarge => Problem::TooLarge {
            path: path.to_owned(),
        },
        Bounded::Io(reason) => Problem::Read {
            path: path.to_owned(),
            reason,
        },
    })?;
    let mut config = parse(&text).map_err(|at| Problem::Parse {
        path: path.to_owned(),
        at,
    })?;
    if let Some(dir) = path.parent() {
        absolute_paths(&mut config, dir);
    }
    Ok(config)
}

/// A kubeconfig's text, parsed; the error is where it went wrong (` at line 3, column 7`),
/// never what was there.
pub fn parse(text: &str) -> Result<Kubeconfig, String> {
    Kubeconfig::from_yaml(text).map_err(|error| match &error {
        KubeconfigError::Parse(yaml) => super::yaml_position(yaml),
        // Merging the documents of one file: the error names kinds, not content.
        other => format!(" ({other})"),
    })
}

enum Bounded {
    TooLarge,
    Io(String),
}

/// A file's text, read to at most `max` bytes: `/dev/zero` or a FIFO that never ends cannot
/// take kos's memory.
fn read_bounded(path: &Path, max: u64) -> Result<String, Bounded> {
    let file = std::fs::File::open(path).map_err(|e| Bounded::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Bounded::Io(e.to_string()))?;
    if bytes.len() as u64 > max {
        return Err(Bounded::TooLarge);
    }
    String::from_utf8(bytes).map_err(|e| {
        Bounded::Io(format!(
            "not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Paths in a kubeconfig are relative to its folder, as kubectl resolves them. An exec
/// command is only when it holds a path separator: a bare name is looked up in `PATH`.
fn absolute_paths(config: &mut Kubeconfig, dir: &Path) {
    let absolute = |path: &mut Option<String>| {
        if let Some(p) = path.as_mut()
            && Path::new(p.as_str()).is_relative()
        {
            *p = dir.join(p.as_str()).to_string_lossy().into_owned();
        }
    };
    for named in &mut config.clusters {
        if let Some(cluster) = &mut named.cluster {
            absolute(&mut cluster.certificate_authority);
        }
    }
    for named in &mut config.auth_infos {
        let Some(auth) = &mut named.auth_info else {
            continue;
        };
        absolute(&mut auth.client_certificate);
        absolute(&mut auth.client_key);
        absolute(&mut auth.token_file);
        if let Some(exec) = &mut auth.exec
            && exec
                .command
                .as_ref()
                .is_some_and(|c| c.contains(std::path::MAIN_SEPARATOR))
        {
            absolute(&mut exec.command);
        }
    }
}

/// Reads each user's `tokenFile` into its `token`, without the line end that `echo` and
/// most editors leave (kubectl trims it; sent as is, it is not a valid header value).
fn inline_token_files(config: &mut Kubeconfig) -> Result<(), Problem> {
    for named in &mut config.auth_infos {
        let Some(auth) = &mut named.auth_info else {
            continue;
        };
        let Some(path) = auth.token_file.take() else {
            continue;
        };
        if auth.token.is_some() {
            continue;
        }
        let problem = |reason: String| Problem::TokenFile {
            user: named.name.clone(),
            path: PathBuf::from(&path),
            reason,
        };
        let text = read_bounded(Path::new(&path), MAX_TOKEN_BYTES).map_err(|e| match e {
            Bounded::TooLarge => problem(format!("larger than {} KiB", MAX_TOKEN_BYTES >> 10)),
            Bounded::Io(reason) => problem(reason),
        })?;
        auth.token = Some(text.trim().to_owned().into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "sekret-token-0123456789";

    fn kubeconfig(user: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  \
             cluster:\n    server: http://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    \
             cluster: k\n    user: u\nusers:\n- name: u\n  user:\n{user}"
        )
    }

    #[test]
    fn a_broken_kubeconfig_is_named_by_line_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let broken = kubeconfig(&format!(
            "    token: {SECRET}\n    client-key-data: [{SECRET}\n"
        ));
        std::fs::write(&path, broken).unwrap();
        let text = read(&path).unwrap_err().to_string();
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains("config") && text.contains("line"), "{text}");
    }

    #[test]
    fn an_endless_file_is_refused_at_its_bound() {
        let error = read(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(error, Problem::TooLarge { .. }), "{error}");
    }

    #[test]
    fn a_token_file_is_trimmed_and_relative_to_its_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), format!("{SECRET}\n")).unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, kubeconfig("    tokenFile: token\n")).unwrap();
        let mut config = read(&path).unwrap();
        inline_token_files(&mut config).unwrap();
        let auth = serde_json::to_value(config.auth_infos[0].auth_info.as_ref()).unwrap();
        assert_eq!(auth["token"], SECRET);
        assert_eq!(auth["tokenFile"], serde_json::Value::Null);
    }

    #[test]
    fn missing_entries_of_the_list_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::write(&real, kubeconfig("    token: t\n")).unwrap();
        let list = std::env::join_paths([Path::new("/nonexistent/config"), &real]).unwrap();
        let config = read_list(&list).unwrap();
        assert_eq!(config.current_context.as_deref(), Some("c"));
        let none = std::env::join_paths([Path::new("/nonexistent/a"), Path::new("/nope")]);
        let error = read_list(&none.unwrap()).unwrap_err().to_string();
        assert!(error.contains("/nonexistent/a, /nope"), "{error}");
    }

    proptest! {
        #[test]
        fn any_text_parses_or_fails_without_quoting_it(text in "[ -~\\n]{0,200}") {
            let secret_text = format!("{text}{SECRET}");
            if let Err(at) = parse(&secret_text) {
                prop_assert!(!at.contains(SECRET), "{}", at);
            }
        }
    }
}
