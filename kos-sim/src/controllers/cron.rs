//! A minimal cron parser for CronJob schedules: five fields (minute, hour, day of month,
//! month, day of week) with `*`, lists, ranges, steps and month / weekday names, and the
//! `@hourly`-style macros; and the next time a schedule fires. Pure; times are UTC.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("expected exactly 5 fields, found {0}: {1}")]
    Fields(usize, String),
    #[error("bad value {0:?} in field {1}")]
    Value(String, &'static str),
}

/// A parsed schedule: the allowed values of each field as bit sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Day of month and day of week both restricted: a day matches if either does.
    either_day: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
    },
    Field {
        name: "day of week",
        min: 0,
        max: 7,
        names: &WEEKDAYS,
    },
];

impl Field {
    fn number(&self, text: &str) -> Result<u32, CronError> {
        let lower = text.to_ascii_lowercase();
        let offset = u32::from(self.names.len() == 12);
        let value = match self.names.iter().position(|n| *n == lower) {
            Some(i) => i as u32 + offset,
            None => text
                .parse()
                .map_err(|_| CronError::Value(text.to_owned(), self.name))?,
        };
        if value < self.min || value > self.max {
            return Err(CronError::Value(text.to_owned(), self.name));
        }
        Ok(value)
    }

    /// The bit set of one field; `*` as the whole field is reported as unrestricted.
    fn parse(&self, text: &str) -> Result<(u64, bool), CronError> {
        let mut bits = 0u64;
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((range, step)) => {
                    let step: u32 = step
                        .parse()
                        .ok()
                        .filter(|s| *s > 0)
                        .ok_or_else(|| CronError::Value(part.to_owned(), self.name))?;
                    (range, step)
                }
                None => (part, 1),
            };
            let (low, high) = if range == "*" {
                (self.min, self.max)
            } else if let Some((low, high)) = range.split_once('-') {
                (self.number(low)?, self.number(high)?)
            } else {
                let low = self.number(range)?;
                (low, if part.contains('/') { self.max } else { low })
            };
            if low > high {
                return Err(CronError::Value(part.to_owned(), self.name));
            }
            for value in (low..=high).step_by(step as usize) {
                bits |= 1 << value;
            }
        }
        Ok((bits, text == "*"))
    }
}

/// Parses a schedule.
pub fn parse(text: &str) -> Result<Schedule, CronError> {
    let text = match text.trim() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other => other,
    };
    let parts: Vec<&str> = text.split_whitespace().collect();
    if parts.len() != 5 {
        return Err(CronError::Fields(parts.len(), text.to_owned()));
    }
    let mut fields = [(0u64, false); 5];
    for (i, field) in FIELDS.iter().enumerate() {
        fields[i] = field.parse(parts[i])?;
    }
    let mut weekdays = fields[4].0;
    // 7 is Sunday too.
    if weekdays & (1 << 7) != 0 {
        weekdays |= 1;
    }
    Ok(Schedule {
        minutes: fields[0].0,
        hours: fields[1].0,
        days: fields[2].0,
        months: fields[3].0,
        weekdays,
        either_day: !fields[2].1 && !fields[4].1,
    })
}

impl Schedule {
    fn day_matches(&self, t: &DateTime<Utc>) -> bool {
        let day = self.days & (1 << t.day()) != 0;
        let weekday = self.weekdays & (1 << t.weekday().num_days_from_sunday()) != 0;
        if self.either_day {
            day || weekday
        } else {
            day && weekday
        }
    }

    /// The first time strictly after `after` that the schedule fires (within 5 years).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let mut t = start;
        let limit = start + Duration::days(5 * 366);
        while t < limit {
            if self.months & (1 << t.month()) == 0 {
                let (year, month) = if t.month() == 12 {
                    (t.year() + 1, 1)
                } else {
                    (t.year(), t.month() + 1)
                };
                t = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single()?;
            } else if !self.day_matches(&t) {
                t = (t + Duration::days(1)).with_hour(0)?.with_minute(0)?;
            } else if self.hours & (1 << t.hour()) == 0 {
                t = (t + Duration::hours(1)).with_minute(0)?;
            } else if self.minutes & (1 << t.minute()) == 0 {
                t += Duration::minutes(1);
            } else {
                return Some(t);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn next(schedule: &str, after: &str) -> String {
        parse(schedule)
            .unwrap()
            .next_after(at(after))
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    #[test]
    fn steps_lists_and_ranges() {
        assert_eq!(
            next("*/15 * * * *", "2026-11-26T09:31:10Z"),
            "2026-11-26T09:45:00Z"
        );
        assert_eq!(
            next("0,30 9-10 * * *", "2026-11-26T10:30:00Z"),
            "2026-11-27T09:00:00Z"
        );
        assert_eq!(
            next("5/20 * * * *", "2026-11-26T09:26:00Z"),
            "2026-11-26T09:45:00Z"
        );
        assert_eq!(
            next("* * * * *", "2026-11-26T09:59:59Z"),
            "2026-11-26T10:00:00Z"
        );
    }

    #[test]
    fn names_macros_and_days() {
        // 2026-11-26 is a Thursday.
        assert_eq!(
            next("0 12 * * mon", "2026-11-26T00:00:00Z"),
            "2026-11-30T12:00:00Z"
        );
        assert_eq!(
            next("0 0 1 jan *", "2026-11-26T00:00:00Z"),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            next("@hourly", "2026-11-26T09:31:00Z"),
            "2026-11-26T10:00:00Z"
        );
        assert_eq!(
            next("0 0 * * 7", "2026-11-26T00:00:00Z"),
            "2026-11-29T00:00:00Z"
        );
        // Day of month and day of week both given: either matches.
        assert_eq!(
            next("0 0 28 * fri", "2026-11-26T00:00:00Z"),
            "2026-11-27T00:00:00Z"
        );
    }

    #[test]
    fn bad_schedules_are_refused() {
        assert!(matches!(parse("* * * *"), Err(CronError::Fields(4, _))));
        assert!(matches!(parse("61 * * * *"), Err(CronError::Value(..))));
        assert!(matches!(parse("*/0 * * * *"), Err(CronError::Value(..))));
        assert!(matches!(parse("5-1 * * * *"), Err(CronError::Value(..))));
        assert!(
            parse("0 0 31 2 *")
                .unwrap()
                .next_after(at("2026-01-01T00:00:00Z"))
                .is_none()
        );
    }
}
