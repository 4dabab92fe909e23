//! Times as people read them: in this computer's time zone, with the
//! zone named (`2026-12-03 08:57 CET`), as other password managers show
//! them; in UTC with `--utc` or `GOPHKEEPER_UTC=1`. To the minute: what a
//! person compares (when a device was last seen, when the last sync was)
//! does not need seconds, and scripts get milliseconds from `--json`.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The zone times are shown in.
#[derive(Debug, Clone)]
pub struct Clock {
    zone: TimeZone,
}

impl Clock {
    /// The local zone (`TZ`, else the system's setting), or UTC if `utc`.
    pub fn new(utc: bool) -> Self {
        if utc { Self::utc() } else { Self::local() }
    }

    /// The local zone. Where none can be found (a container without a
    /// zone database, say) this is UTC, and the text says so.
    pub fn local() -> Self {
        Self::in_zone(TimeZone::try_system().unwrap_or(TimeZone::UTC))
    }

    pub fn utc() -> Self {
        Self::in_zone(TimeZone::UTC)
    }

    pub fn in_zone(zone: TimeZone) -> Self {
        Self { zone }
    }

    /// `YYYY-MM-DD HH:MM ZONE` from milliseconds since the epoch.
    pub fn date_time(&self, ms: i64) -> String {
        self.format(ms, "%Y-%m-%d %H:%M %Z")
    }

    /// `HH:MM ZONE`, where the date goes without saying (the status line).
    pub fn time_of_day(&self, ms: i64) -> String {
        self.format(ms, "%H:%M %Z")
    }

    fn format(&self, ms: i64, pattern: &str) -> String {
        match Timestamp::from_millisecond(ms) {
            Ok(instant) => instant
                .to_zoned_datetime(self.zone.clone())
                .strftime(pattern)
                .to_string(),
            // Beyond the years -9999 to 9999: only a corrupt value.
            Err(_) => format!("{ms} ms since 1970"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central European rules as a POSIX TZ string: the same in every test
    /// run, with no zone database needed.
    fn berlin() -> Clock {
        Clock::in_zone(TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap())
    }

    #[test]
    fn utc_times() {
        let utc = Clock::utc();
        assert_eq!(utc.date_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc.date_time(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(utc.date_time(1_700_000_000_123), "2023-11-14 22:13 UTC");
        assert_eq!(utc.date_time(-1000), "1969-12-31 23:59 UTC");
        assert_eq!(utc.time_of_day(1_709_251_199_000), "23:59 UTC");
        assert!(Clock::new(true).date_time(0).ends_with(" UTC"));
    }

    #[test]
    fn local_times_name_the_zone_and_follow_summer_time() {
        let berlin = berlin();
        // 2026-12-03 07:57 UTC, in winter.
        assert_eq!(berlin.date_time(1_796_284_620_000), "2026-12-03 08:57 CET");
        // 2026-07-01 12:00 UTC, in summer.
        assert_eq!(berlin.date_time(1_782_907_200_000), "2026-07-01 14:00 CEST");
        assert_eq!(berlin.time_of_day(1_796_284_620_000), "08:57 CET");
        // The day changes with the zone: 23:30 UTC is the next day here.
        assert_eq!(berlin.date_time(1_796_340_600_000), "2026-12-04 00:30 CET");
    }

    #[test]
    fn out_of_range_times_do_not_panic() {
        assert_eq!(
            Clock::utc().date_time(i64::MAX),
            format!("{} ms since 1970", i64::MAX)
        );
    }
}
