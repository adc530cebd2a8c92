//! `preld run --clock-offset`, `--clock-start`, `--clock-rate`,
//! `--clock-monotonic`: the program's virtual time. The values are parsed
//! and checked here (a mistake is a usage error); the launcher then reads
//! the real clock once and gives ld-preld the time line every process of
//! the run shares: `--clock-anchor REAL_NS:VIRTUAL_NS [--clock-rate R]
//! [--clock-monotonic MONO_NS:RAW_NS:BOOT_NS]` (handler/src/clock.rs).

use clap::Args;

const NS: i128 = 1_000_000_000;

/// Virtual time (wall clock only; file timestamps are the kernel's).
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct ClockArgs {
    /// The wall clock (clock_gettime, gettimeofday, time, the vDSO, also in
    /// static and Go programs) is shifted by DURATION: `+3d`, `-1h30m`,
    /// `+90s`, `2w`, `-500ms` (units w d h m s ms us ns; a bare number is
    /// seconds)
    #[arg(long = "clock-offset", value_name = "±DURATION", allow_hyphen_values = true, value_parser = parse_offset,
        conflicts_with = "start")]
    pub offset: Option<i128>,
    /// The wall clock starts at DATETIME and runs on from there:
    /// `2030-01-01T00:00:00Z`, `2030-01-01 12:30[:45.5][+02:00]` (UTC
    /// without a zone), `2030-01-01`, or `@SECONDS` since the epoch as
    /// date(1) takes them
    #[arg(long = "clock-start", value_name = "DATETIME", value_parser = parse_datetime)]
    pub start: Option<i128>,
    /// The wall clock runs R times as fast as the real one (R > 0, e.g. 2 or
    /// 0.5), from the start; relative sleeps on it (nanosleep, sleep(1))
    /// last their length divided by R
    #[arg(long = "clock-rate", value_name = "R", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// The monotonic clocks (CLOCK_MONOTONIC, _RAW, _COARSE, BOOTTIME) run
    /// at --clock-rate too (they are never offset)
    #[arg(long = "clock-monotonic", requires = "rate")]
    pub monotonic: bool,
}

impl ClockArgs {
    /// ld-preld's options for this run (none without a clock option),
    /// anchored at the real clock now.
    pub fn loader_args(&self) -> Result<Vec<String>, String> {
        if self.offset.is_none() && self.start.is_none() && self.rate.is_none() {
            return Ok(Vec::new());
        }
        let real = now(libc::CLOCK_REALTIME);
        let mono =
            self.monotonic.then(|| [libc::CLOCK_MONOTONIC, libc::CLOCK_MONOTONIC_RAW, libc::CLOCK_BOOTTIME].map(now));
        let virt = match (self.offset, self.start) {
            (Some(off), _) => real + off,
            (None, Some(start)) => start,
            (None, None) => real,
        };
        if i64::try_from(virt).is_err() {
            return Err("the virtual time is out of range (years 1678 to 2262)".into());
        }
        let mut a = vec!["--clock-anchor".to_string(), format!("{real}:{virt}")];
        if let Some(r) = self.rate {
            a.extend(["--clock-rate".to_string(), format!("{r}")]);
        }
        if let Some([m, raw, boot]) = mono {
            a.extend(["--clock-monotonic".to_string(), format!("{m}:{raw}:{boot}")]);
        }
        Ok(a)
    }
}

fn now(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec given.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i128 * NS + ts.tv_nsec as i128
}

/// `[+|-]` then one or more NUMBER[UNIT] (a bare number: seconds); ns.
pub fn parse_offset(v: &str) -> Result<i128, String> {
    let bad = || format!("expected a duration such as +3d, -1h30m, +90s or -500ms, not `{v}`");
    let (sign, mut rest) = match v.as_bytes().first() {
        Some(b'+') => (1, &v[1..]),
        Some(b'-') => (-1, &v[1..]),
        _ => (1, v),
    };
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i128 = 0;
    let mut first = true;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let u = rest[n..].find(|c: char| !c.is_ascii_alphabetic()).map_or(rest.len(), |u| n + u);
        let (num, unit) = (&rest[..n], &rest[n..u]);
        let unit_ns: i128 = match unit {
            "w" => 7 * 86_400 * NS,
            "d" => 86_400 * NS,
            "h" => 3_600 * NS,
            "m" => 60 * NS,
            "s" | "" => NS,
            "ms" => 1_000_000,
            "us" => 1_000,
            "ns" => 1,
            _ => return Err(bad()),
        };
        // A bare number only alone (`1h30` is not guessed at).
        if unit.is_empty() && (u != rest.len() || !first) {
            return Err(bad());
        }
        total = total.checked_add(decimal(num, unit_ns).ok_or_else(bad)?).ok_or_else(bad)?;
        if total > 300 * 365 * 86_400 * NS {
            return Err(format!("the offset `{v}` is too large (at most 300 years)"));
        }
        rest = &rest[u..];
        first = false;
    }
    Ok(sign * total)
}

/// `D[.F]` times `unit` ns (fractions below 1 ns dropped).
fn decimal(num: &str, unit: i128) -> Option<i128> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 18 {
        return None;
    }
    let i: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut f: i128 = 0;
    let mut scale: i128 = 1;
    for b in frac.bytes() {
        f = f * 10 + (b - b'0') as i128;
        scale *= 10;
    }
    i.checked_mul(unit)?.checked_add(f * unit / scale)
}

/// A rate: a finite number above 0 (and within a million either way).
pub fn parse_rate(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(r) if r.is_finite() && (1e-6..=1e6).contains(&r) => Ok(r),
        Ok(_) => Err(format!("the rate must be above 0, from 0.000001 to 1000000, not `{v}`")),
        Err(_) => Err(format!("expected a number such as 2 or 0.5, not `{v}`")),
    }
}

/// RFC 3339, `YYYY-MM-DD[( |T)HH:MM[:SS[.F]]][Z|±HH[:MM]]` (UTC without a
/// zone), or `@SECONDS[.F]`; ns since the epoch.
pub fn parse_datetime(v: &str) -> Result<i128, String> {
    let bad = || {
        format!("expected a date and time such as 2030-01-01T00:00:00Z, `2030-01-01 12:30+02:00` or @1893456000, not `{v}`")
    };
    let ns = if let Some(secs) = v.strip_prefix('@') {
        let (neg, s) = secs.strip_prefix('-').map_or((false, secs), |s| (true, s));
        let n = decimal(s, NS).filter(|_| !s.starts_with('+')).ok_or_else(bad)?;
        if neg { -n } else { n }
    } else {
        datetime(v).ok_or_else(bad)?
    };
    if i64::try_from(ns).is_err() {
        return Err(format!("`{v}` is out of range (years 1678 to 2262)"));
    }
    Ok(ns)
}

fn datetime(v: &str) -> Option<i128> {
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<i128>().ok()).flatten()
    };
    let b = v.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(&v[..4], 4)?, num(&v[5..7], 2)?, num(&v[8..10], 2)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    let mut frac = 0;
    let mut rest = &v[10..];
    if let Some(r) = rest.strip_prefix(['T', 't', ' ']) {
        let (h, mi) = (num(r.get(..2)?, 2)?, num(r.get(3..5)?, 2)?);
        if r.as_bytes()[2] != b':' || h > 23 || mi > 59 {
            return None;
        }
        secs += h * 3_600 + mi * 60;
        rest = &r[5..];
        if let Some(r) = rest.strip_prefix(':') {
            let s = num(r.get(..2)?, 2)?;
            if s > 60 {
                return None;
            }
            secs += s;
            rest = &r[2..];
            if let Some(r) = rest.strip_prefix(['.', ',']) {
                let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
                if n == 0 {
                    return None;
                }
                frac = decimal(&format!("0.{}", &r[..n]), NS)?;
                rest = &r[n..];
            }
        }
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let zone = match rest {
        "" | "Z" | "z" | "UTC" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = rest[1..].replace(':', "");
            let (h, m) = match z.len() {
                2 => (num(&z, 2)?, 0),
                4 => (num(&z[..2], 2)?, num(&z[2..], 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3_600 + m * 60)
        }
    };
    secs -= zone;
    Some(secs * NS + frac)
}

fn days_in_month(y: i128, m: i128) -> i128 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days_from_civil).
fn days_from_civil(y: i128, m: i128, d: i128) -> i128 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+3d"), Ok(3 * 86_400 * NS));
        assert_eq!(parse_offset("-1h30m"), Ok(-5_400 * NS));
        assert_eq!(parse_offset("+90s"), Ok(90 * NS));
        assert_eq!(parse_offset("90"), Ok(90 * NS));
        assert_eq!(parse_offset("-500ms"), Ok(-500_000_000));
        assert_eq!(parse_offset("1.5h"), Ok(5_400 * NS));
        assert_eq!(parse_offset("2w1d"), Ok(15 * 86_400 * NS));
        for bad in ["", "+", "3x", "1h30", "h", "--3d", "3d+1h", "1e3s", "1..5s", "400y", "20000w"] {
            assert!(parse_offset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn datetimes() {
        let y2030 = 1_893_456_000 * NS;
        for ok in ["2030-01-01T00:00:00Z", "2030-01-01", "2030-01-01 00:00", "2030-01-01t00:00:00z", "@1893456000",
            "2030-01-01T02:00:00+02:00", "2029-12-31T19:00:00-0500", "2030-01-01 01:00 +01", "2030-01-01 00:00:00 UTC"]
        {
            assert_eq!(parse_datetime(ok), Ok(y2030), "{ok}");
        }
        assert_eq!(parse_datetime("1970-01-01T00:00:01.25Z"), Ok(NS + NS / 4));
        assert_eq!(parse_datetime("@-1.5"), Ok(-NS - NS / 2));
        assert_eq!(parse_datetime("2024-02-29T12:00:00Z"), Ok(1_709_208_000 * NS));
        assert_eq!(parse_datetime("1969-12-31T23:59:59Z"), Ok(-NS));
        for bad in ["2030-13-01", "2023-02-29", "2030-01-01T24:00", "2030-1-1", "tomorrow", "@x", "@+5",
            "2030-01-01T00:00:00+25:00", "2030-01-01Z00", "3000-01-01", "2030-01-01T00:00:00.Z"]
        {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("2"), Ok(2.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        for bad in ["0", "-1", "inf", "nan", "x", "1e7"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loader_args() {
        assert!(ClockArgs::default().loader_args().unwrap().is_empty());
        let a = ClockArgs { offset: Some(86_400 * NS), ..Default::default() }.loader_args().unwrap();
        assert_eq!(a[0], "--clock-anchor");
        let (r, v) = a[1].split_once(':').unwrap();
        assert_eq!(v.parse::<i128>().unwrap() - r.parse::<i128>().unwrap(), 86_400 * NS);
        let a = ClockArgs { start: Some(0), rate: Some(2.0), monotonic: true, ..Default::default() };
        let a = a.loader_args().unwrap();
        assert_eq!(a.len(), 6);
        assert!(a[1].ends_with(":0") && a[3] == "2" && a[5].split(':').count() == 3);
        assert!(ClockArgs { offset: Some(i64::MAX as i128), ..Default::default() }.loader_args().is_err());
    }
}
