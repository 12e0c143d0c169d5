//! Durations as Kubernetes objects write them: Go's `time.ParseDuration` grammar (`5s`,
//! `1h30m`, `1.5s`, `250ms`, `0`), used by the `sim.kos.dev/` annotations and `--faults`.
//!
//! kos has its own parser for its command line, which also takes a bare number of seconds as
//! kubectl's flags do. The two are kept apart on purpose: the simulator reads what a manifest
//! says the way the cluster it plays would, and must not change when kos's flags do.

use std::time::Duration;

/// Parses a non-negative Go duration: a sequence of decimal numbers, each with a unit
/// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), or `0` alone.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("empty duration; use e.g. 2s, 500ms or 1m".into());
    }
    let mut seconds = 0.0_f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_len);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration (use e.g. 2s, 500ms or 1m)"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, after) = tail.split_at(unit_len);
        seconds += value
            * unit_seconds(unit).ok_or_else(|| match unit {
                "" => format!("`{text}`: missing unit (use ns, us, ms, s, m or h)"),
                _ => format!("`{text}`: unknown unit `{unit}` (use ns, us, ms, s, m or h)"),
            })?;
        rest = after;
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is out of range"))
}

fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1e-9,
        "us" | "µs" | "μs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_durations() {
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn a_unit_is_required_as_in_go() {
        assert!(parse("5").unwrap_err().contains("missing unit"));
        assert!(parse("5x").unwrap_err().contains("unknown unit `x`"));
        assert!(parse("").is_err());
        assert!(parse("-1s").is_err());
        assert!(parse("soon").is_err());
    }
}
