//! `Retry-After` (RFC 9110 §10.2.3) in both its forms: delay-seconds (`120`) and an
//! HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`).
//!
//! A date is measured against the response's own `Date` header when it has one, so a client
//! whose clock is off still waits what the server meant; otherwise against the system clock.
//! A date in the past means no wait. The core caps every wait at its `retry_after_cap`.

use std::time::{Duration, SystemTime};

/// The wait a `Retry-After` value asks for, with `date` the response's `Date` header (if
/// any) and `now` the system clock (used only for a date without a `Date` header). `None`
/// for a value that is neither form.
pub(crate) fn parse_retry_after_at(
    value: &str,
    date: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let value = value.trim();
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return crate::error::parse_retry_after(value);
    }
    let until = httpdate::parse_http_date(value).ok()?;
    let reference = date
        .and_then(|date| httpdate::parse_http_date(date.trim()).ok())
        .unwrap_or(now);
    Some(until.duration_since(reference).unwrap_or(Duration::ZERO))
}

/// [`parse_retry_after_at`] against the system clock.
pub(crate) fn retry_after_from_headers(value: &str, date: Option<&str>) -> Option<Duration> {
    parse_retry_after_at(value, date, SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Wed, 21 Oct 2015 07:28:00 GMT";

    fn at(text: &str) -> SystemTime {
        httpdate::parse_http_date(text).unwrap()
    }

    #[test]
    fn seconds_are_read_as_they_are() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(
            parse_retry_after_at(" 120 ", None, now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after_at("-1", None, now), None);
        assert_eq!(parse_retry_after_at("1.5", None, now), None);
        assert_eq!(parse_retry_after_at("", None, now), None);
        assert_eq!(parse_retry_after_at("soon", None, now), None);
    }

    #[test]
    fn a_date_is_measured_against_the_date_header_despite_a_skewed_clock() {
        // The client's clock is an hour fast; the server's Date says 07:27:30.
        let skewed = at("Wed, 21 Oct 2015 08:27:30 GMT");
        assert_eq!(
            parse_retry_after_at(DATE, Some("Wed, 21 Oct 2015 07:27:30 GMT"), skewed),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn without_a_date_header_the_system_clock_is_the_reference() {
        let now = at("Wed, 21 Oct 2015 07:27:00 GMT");
        assert_eq!(
            parse_retry_after_at(DATE, None, now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after_at(DATE, Some("garbage"), now),
            Some(Duration::from_secs(60))
        );
        // A date in the past: retry at once.
        let later = at("Wed, 21 Oct 2015 09:00:00 GMT");
        assert_eq!(
            parse_retry_after_at(DATE, None, later),
            Some(Duration::ZERO)
        );
        // The two obsolete date formats RFC 9110 still requires recipients to accept.
        assert_eq!(
            parse_retry_after_at("Wednesday, 21-Oct-15 07:28:00 GMT", None, now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after_at("Wed Oct 21 07:28:00 2015", None, now),
            Some(Duration::from_secs(60))
        );
    }
}
