//! `serve`: the simulated cluster as a standalone server, the command behind both
//! `kos sim serve` and the `kos-sim serve` binary. It writes the kubeconfig first, then
//! prints the one line tests and scripts read the address from, and serves until Ctrl-C or
//! SIGTERM.

use crate::faults::{Faults, FaultsError};
use crate::tls::ServingCert;
use crate::{SimConfig, SimError, Transport};
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Write a kubeconfig (context kos-sim) for this cluster to FILE, mode 0600. A file
    /// that an earlier run did not write is not replaced without --overwrite-kubeconfig
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Let --kubeconfig-out replace a file that kos did not write (never a symbolic link)
    #[arg(long, requires = "kubeconfig_out")]
    pub overwrite_kubeconfig: bool,
    /// Run the simulated clock X times faster
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = speed_arg)]
    pub speed: f64,
    /// Inject API faults: a comma-separated list of drop-watch=DUR, gone-on-rewatch=P,
    /// error-rate=P, latency=DUR, restart-every=DUR, forbid=VERB:RESOURCE
    #[arg(long, value_name = "SPEC", value_parser = faults_arg)]
    pub faults: Option<Arc<Faults>>,
    /// The serving certificate: ca-signed (by the cluster's CA, as kubeadm and kind make
    /// it) or self-signed (a CA certificate that is its own CA, which kubectl accepts and
    /// rustls-based clients, kos among them, refuse)
    #[arg(long, value_name = "SHAPE", value_enum, default_value = "ca-signed")]
    pub serving_cert: ServingCert,
    /// Serve plain HTTP and let every request do everything, without credentials: for
    /// debugging only (anything that can reach the port owns the cluster)
    #[arg(long, conflicts_with_all = ["serving_cert", "pki_dir"])]
    pub insecure_http: bool,
    /// Keep the CA, the certificates and the viewer's token in DIR, made there on the first
    /// run: a server restarted on it is still trusted by the clients of the last one
    #[arg(long, value_name = "DIR")]
    pub pki_dir: Option<PathBuf>,
}

/// A `--speed` value: a positive number.
pub fn speed_arg(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(format!("{text:?} is not a positive number")),
    }
}

/// A `--faults` value.
fn faults_arg(text: &str) -> Result<Arc<Faults>, String> {
    text.parse()
        .map(Arc::new)
        .map_err(|e: FaultsError| e.to_string())
}

/// Why `serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] SimError),
    #[error("cannot write the kubeconfig to {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The kubeconfig's path holds something that must not be replaced: a bad flag.
    #[error("not writing the kubeconfig to {path}: {why}")]
    Refused { path: PathBuf, why: &'static str },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(args: &ServeArgs) -> Result<(), ServeError> {
    // The server's own warnings and errors go to stderr (RUST_LOG overrides the level);
    // stdout carries only the address line.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Already installed (the sim embedded in a process that has its own): keep that one.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
    let config = SimConfig {
        addr: args.addr,
        speed: args.speed,
        faults: args.faults.clone().unwrap_or_default(),
        transport: if args.insecure_http {
            Transport::InsecureHttp
        } else {
            Transport::Https(args.serving_cert)
        },
        pki_dir: args.pki_dir.clone(),
        ..SimConfig::default()
    };
    // Refuse before listening, so that a refused path leaves nothing running.
    if let Some(path) = &args.kubeconfig_out {
        check_replaceable(path, args.overwrite_kubeconfig)?;
    }
    let cluster = crate::start(config).await?;
    if let Some(warning) = exposure_warning(cluster.addr, args.insecure_http) {
        eprintln!("kos sim: warning: {warning}");
    }
    let written = match &args.kubeconfig_out {
        Some(path) => {
            write_kubeconfig(path, &cluster.kubeconfig())?;
            path.display().to_string()
        }
        None => "not written".to_owned(),
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "kos sim: serving on {} (kubeconfig: {written})",
        cluster.url()
    )?;
    stdout.flush()?;
    drop(stdout);
    stopped().await?;
    cluster.shutdown().await;
    Ok(())
}

/// What to warn of when the server can be reached from beyond this machine.
fn exposure_warning(addr: SocketAddr, insecure: bool) -> Option<String> {
    if addr.ip().is_loopback() {
        return None;
    }
    let who = if insecure {
        "anyone who can reach it can do anything to the cluster (--insecure-http)"
    } else {
        "anyone who can reach it can try its credentials"
    };
    Some(format!(
        "listening on {addr}, beyond the loopback interface: {who}"
    ))
}

/// The first line of every kubeconfig `serve` writes: what tells a file it may replace from
/// one it must not (a user's `~/.kube/config`, say).
const KUBECONFIG_MARK: &str = "# Written by kos sim serve: the simulated cluster's kubeconfig.";

/// Whether `path` may receive a kubeconfig: never a symbolic link (it could point anywhere),
/// and an existing file only if `serve` wrote it or `overwrite` says so.
fn check_replaceable(path: &Path, overwrite: bool) -> Result<(), ServeError> {
    let refused = |why| ServeError::Refused {
        path: path.to_owned(),
        why,
    };
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        return Err(refused("it is a symbolic link"));
    }
    if !meta.is_file() {
        return Err(refused("it is not a regular file"));
    }
    let ours = std::fs::read_to_string(path).is_ok_and(|text| text.starts_with(KUBECONFIG_MARK));
    if ours || overwrite {
        Ok(())
    } else {
        Err(refused(
            "the file exists and kos did not write it (--overwrite-kubeconfig replaces it)",
        ))
    }
}

/// Writes the kubeconfig readable by its owner only (it holds the cluster's credentials),
/// through a new file renamed into place: the path is never opened for writing, so neither a
/// link put there meanwhile nor a reader catching it half-written sees anything else.
fn write_kubeconfig(path: &Path, kubeconfig: &str) -> Result<(), ServeError> {
    let failed = |source| ServeError::Kubeconfig {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        failed(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name",
        ))
    })?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(failed)?;
    let written = writeln!(file, "{KUBECONFIG_MARK}")
        .and_then(|()| file.write_all(kubeconfig.as_bytes()))
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(failed)
}

/// Waits for Ctrl-C or SIGTERM.
async fn stopped() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_the_kubeconfig_for_its_owner_only_and_replaces_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        check_replaceable(&path, false).unwrap();
        write_kubeconfig(&path, "kind: Config\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .ends_with("kind: Config\n")
        );
        check_replaceable(&path, false).unwrap();
        write_kubeconfig(&path, "kind: Config\n# again\n").unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn a_file_it_did_not_write_is_kept_unless_overwrite_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(&path, "apiVersion: v1\nkind: Config\n").unwrap();
        let refused = check_replaceable(&path, false).unwrap_err();
        assert!(
            refused.to_string().contains("kos did not write it"),
            "{refused}"
        );
        check_replaceable(&path, true).unwrap();
    }

    #[test]
    fn listening_beyond_loopback_is_warned_of() {
        let addr = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert_eq!(exposure_warning(addr("127.0.0.1:6443"), true), None);
        assert_eq!(exposure_warning(addr("[::1]:6443"), false), None);
        let warning = exposure_warning(addr("0.0.0.0:6443"), true).unwrap();
        assert!(warning.contains("beyond the loopback"), "{warning}");
        assert!(warning.contains("--insecure-http"), "{warning}");
        assert!(exposure_warning(addr("192.0.2.1:6443"), false).is_some());
    }

    #[test]
    fn a_symbolic_link_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        for overwrite in [false, true] {
            let refused = check_replaceable(&link, overwrite).unwrap_err();
            assert!(refused.to_string().contains("symbolic link"), "{refused}");
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }
}
