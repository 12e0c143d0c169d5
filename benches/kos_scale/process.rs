//! A child process measured from outside, through `/proc`: its peak resident memory, its CPU
//! time, when it exited, and how many TCP connections it holds to a port. Reading `/proc`
//! only: the measured process runs exactly as it would without the bench.

use crate::common::{Failure, memory_kb};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often memory is sampled while the process runs; `VmHWM` is a high-water mark, so
/// only what it gains in the last interval before the exit can be missed.
const SAMPLE: Duration = Duration::from_millis(10);
/// Connections are counted every this many samples (it reads every fd of the process).
const CONNECTIONS_EVERY: u32 = 5;
/// `/proc/PID/stat` counts CPU time in `USER_HZ` ticks, 100 per second on Linux.
const TICK: Duration = Duration::from_millis(10);

/// What a finished process cost.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    /// When its stdout closed: when it exited.
    pub exited: Instant,
    pub peak_rss_kb: u64,
    pub cpu: Duration,
    /// How many TCP connections to the watched port it held most of the time (the mode of
    /// the samples): its standing watches, without the short requests beside them.
    pub connections: usize,
    pub stdout: String,
    pub stderr: String,
}

/// Starts `command` with its output captured.
pub fn spawn(command: &mut Command) -> Result<Child, Failure> {
    Ok(command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?)
}

/// Samples `child` until it exits; counts its connections to `port` when one is given.
pub fn measure(mut child: Child, port: Option<u16>) -> Result<Finished, Failure> {
    let pid = child.id();
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let (closed, exit) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let read = stdout.read_to_string(&mut text);
        let _ = closed.send(Instant::now());
        read.map(|_| text)
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).map(|_| text)
    });
    let mut peak_rss_kb = 0;
    let mut connection_counts: HashMap<usize, u32> = HashMap::new();
    let mut samples = 0u32;
    let exited = loop {
        match exit.recv_timeout(SAMPLE) {
            Ok(at) => break at,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err("stdout reader died".into()),
        }
        // The process may be gone between two reads: a failed read is a missed sample.
        if let Ok((peak, _)) = memory_kb(pid) {
            peak_rss_kb = peak_rss_kb.max(peak);
        }
        if let Some(port) = port
            && samples.is_multiple_of(CONNECTIONS_EVERY)
            && let Ok(count) = connections(pid, port)
        {
            *connection_counts.entry(count).or_default() += 1;
        }
        samples += 1;
    };
    // Not reaped yet: a zombie's /proc/PID/stat still holds its CPU time.
    let cpu = cpu_time(pid)?;
    let status = child.wait()?;
    let stdout = reader.join().map_err(|_| "stdout reader panicked")??;
    let stderr = errors.join().map_err(|_| "stderr reader panicked")??;
    Ok(Finished {
        status,
        exited,
        peak_rss_kb,
        cpu,
        connections: connection_counts
            .into_iter()
            .max_by_key(|&(count, seen)| (seen, count))
            .map_or(0, |(count, _)| count),
        stdout,
        stderr,
    })
}

/// User plus system CPU time of process `pid` so far.
pub fn cpu_time(pid: u32) -> Result<Duration, Failure> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces and parentheses: fields are counted after its `)`.
    let after_name = stat.rsplit_once(')').ok_or("malformed stat")?.1;
    let mut fields = after_name.split_whitespace().skip(11);
    let mut ticks =
        || -> Result<u32, Failure> { Ok(fields.next().ok_or("short stat")?.parse::<u32>()?) };
    let (user, system) = (ticks()?, ticks()?);
    Ok(TICK * (user + system))
}

/// Established TCP connections of process `pid` to `port` on any address.
pub fn connections(pid: u32, port: u16) -> Result<usize, Failure> {
    let mut sockets = HashSet::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let Ok(target) = std::fs::read_link(entry?.path()) else {
            continue;
        };
        let inode = target.to_str().and_then(|t| {
            t.strip_prefix("socket:[")?
                .strip_suffix(']')?
                .parse::<u64>()
                .ok()
        });
        sockets.extend(inode);
    }
    let mut count = 0;
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        count += text
            .lines()
            .skip(1)
            .filter(|line| is_connection_to(line, port, &sockets))
            .count();
    }
    Ok(count)
}

/// A `/proc/net/tcp` row: `sl local remote st … uid timeout inode`; state `01` is
/// ESTABLISHED and addresses end in `:PORT` in hex.
fn is_connection_to(line: &str, port: u16, sockets: &HashSet<u64>) -> bool {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (Some(remote), Some(state), Some(inode)) = (fields.get(2), fields.get(3), fields.get(9))
    else {
        return false;
    };
    let remote_port = remote
        .rsplit_once(':')
        .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
    *state == "01"
        && remote_port == Some(port)
        && inode
            .parse()
            .is_ok_and(|inode: u64| sockets.contains(&inode))
}
