//! Payment-card rules: Luhn check digit, expiry dates and CVVs.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use zeroize::{Zeroize, Zeroizing};

use super::ValidationError;

/// Month and year printed on a card, valid through the month's last day.
///
/// `year` is normally four digits; a two-digit year means 20YY, so that a
/// value typed as printed on the card ("08/27") is understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Zeroize)]
pub struct CardExpiry {
    pub month: u8,
    pub year: u16,
}

impl CardExpiry {
    /// Parses "MM/YY" or "MM/YYYY" (a one-digit month and spaces around the
    /// slash are tolerated). A two-digit year is stored as 20YY.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let format_error = || ValidationError::ExpiryFormat {
            input: input.chars().take(16).collect(),
        };
        let (month, year) = input.trim().split_once('/').ok_or_else(format_error)?;
        let (month, year) = (month.trim(), year.trim());
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(month) || month.len() > 2 || !all_digits(year) {
            return Err(format_error());
        }
        if year.len() != 2 && year.len() != 4 {
            return Err(format_error());
        }
        let month: u8 = month.parse().map_err(|_| format_error())?;
        let year: u16 = year.parse().map_err(|_| format_error())?;
        let expiry = Self {
            month,
            year: if year < 100 { 2000 + year } else { year },
        };
        expiry.validate()?;
        Ok(expiry)
    }

    /// Month 1–12; year either two digits or four.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=12).contains(&self.month) {
            return Err(ValidationError::ExpiryMonth { month: self.month });
        }
        if !(self.year < 100 || (1000..=9999).contains(&self.year)) {
            return Err(ValidationError::ExpiryYear { year: self.year });
        }
        Ok(())
    }

    /// The four-digit year.
    pub fn full_year(&self) -> u16 {
        if self.year < 100 {
            2000 + self.year
        } else {
            self.year
        }
    }

    /// True once the expiry month is over (in UTC). Expired cards are still
    /// stored: people keep them for refunds and records, so this is a flag
    /// for the UI, not a validation error.
    pub fn is_expired(&self, today: SystemTime) -> bool {
        let (year, month) = utc_year_month(today);
        (year, u32::from(month)) > (u32::from(self.full_year()), u32::from(self.month))
    }
}

impl fmt::Display for CardExpiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:04}", self.month, self.full_year())
    }
}

/// Checks a card number: digits after removing spaces and dashes, 12 to 19
/// of them (ISO/IEC 7812), and a correct Luhn check digit, which catches
/// every single-digit typo and most swaps of neighbours.
pub fn validate_card_number(number: &str) -> Result<(), ValidationError> {
    let digits = card_digits(number).ok_or(ValidationError::CardNumberNotDigits)?;
    if !(12..=19).contains(&digits.len()) {
        return Err(ValidationError::CardNumberLength {
            digits: digits.len(),
        });
    }
    if !luhn_valid(&digits) {
        return Err(ValidationError::CardNumberChecksum);
    }
    Ok(())
}

/// CVV/CVC: three digits, or four on American Express.
pub fn validate_cvv(cvv: &str) -> Result<(), ValidationError> {
    if (3..=4).contains(&cvv.len()) && cvv.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ValidationError::Cvv)
    }
}

/// The digit values of a card number with spaces and dashes removed, or
/// `None` if anything else is in it.
fn card_digits(number: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut digits = Zeroizing::new(Vec::with_capacity(number.len()));
    for c in number.chars() {
        match c {
            ' ' | '-' => {}
            '0'..='9' => digits.push(c as u8 - b'0'),
            _ => return None,
        }
    }
    Some(digits)
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if !i.is_multiple_of(2) {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The last four digits, which is all a card number's `Debug` may show.
pub(super) fn last_four(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

/// The UTC year and month of a time. Outside jiff's range (years -9999 to
/// 9999) a time counts as the range's end on its side.
fn utc_year_month(time: SystemTime) -> (u32, u8) {
    let instant = Timestamp::try_from(time).unwrap_or(if time < UNIX_EPOCH {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    });
    let date = TimeZone::UTC.to_datetime(instant).date();
    // Before year 0 only with a clock gone wrong: no card has expired then.
    (
        u32::try_from(date.year()).unwrap_or(0),
        u8::try_from(date.month()).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn civil_dates() {
        assert_eq!(utc_year_month(at(0)), (1970, 1));
        // 2024-02-29T23:59:59Z and one second later.
        assert_eq!(utc_year_month(at(1_709_251_199)), (2024, 2));
        assert_eq!(utc_year_month(at(1_709_251_200)), (2024, 3));
        // 2030-12-31T23:59:59Z and one second later.
        assert_eq!(utc_year_month(at(1_924_991_999)), (2030, 12));
        assert_eq!(utc_year_month(at(1_924_992_000)), (2031, 1));
        // A clock before 1970 or past jiff's range does not panic.
        assert_eq!(
            utc_year_month(UNIX_EPOCH - Duration::from_secs(1)),
            (1969, 12)
        );
        assert_eq!(utc_year_month(at(400_000_000_000)), (9999, 12));
    }

    #[test]
    fn expiry_parsing() {
        let e = CardExpiry::parse("08/27").unwrap();
        assert_eq!((e.month, e.year), (8, 2027));
        assert_eq!(
            CardExpiry::parse(" 8 / 2031 ").unwrap().to_string(),
            "08/2031"
        );
        for bad in [
            "0827", "08-27", "/27", "08/", "08/207", "08/20277", "aa/27", "+8/27",
        ] {
            assert!(
                matches!(
                    CardExpiry::parse(bad),
                    Err(ValidationError::ExpiryFormat { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            CardExpiry::parse("13/27"),
            Err(ValidationError::ExpiryMonth { month: 13 })
        );
        assert_eq!(
            CardExpiry::parse("00/27"),
            Err(ValidationError::ExpiryMonth { month: 0 })
        );
    }

    #[test]
    fn expiry_year_rules() {
        assert!(CardExpiry { month: 1, year: 27 }.validate().is_ok());
        assert!(
            CardExpiry {
                month: 1,
                year: 2027
            }
            .validate()
            .is_ok()
        );
        assert_eq!(
            CardExpiry {
                month: 1,
                year: 202
            }
            .validate(),
            Err(ValidationError::ExpiryYear { year: 202 })
        );
        assert_eq!(CardExpiry { month: 1, year: 27 }.full_year(), 2027);
    }

    #[test]
    fn expired_means_after_the_expiry_month() {
        let card = CardExpiry { month: 2, year: 24 };
        assert!(
            !card.is_expired(at(1_709_251_199)),
            "last second of Feb 2024"
        );
        assert!(
            card.is_expired(at(1_709_251_200)),
            "first second of Mar 2024"
        );
        assert!(
            !CardExpiry {
                month: 12,
                year: 2030
            }
            .is_expired(at(1_924_991_999))
        );
        assert!(
            CardExpiry {
                month: 12,
                year: 2030
            }
            .is_expired(at(1_924_992_000))
        );
    }

    #[test]
    fn card_numbers() {
        validate_card_number("4111 1111 1111 1111").unwrap();
        validate_card_number("5500-0000-0000-0004").unwrap();
        validate_card_number("378282246310005").unwrap(); // Amex, 15 digits
        validate_card_number("4222222222222").unwrap(); // 13 digits
        assert_eq!(
            validate_card_number("4111 1111 1111 1112"),
            Err(ValidationError::CardNumberChecksum)
        );
        assert_eq!(
            validate_card_number("4111.1111.1111.1111"),
            Err(ValidationError::CardNumberNotDigits)
        );
        assert_eq!(
            validate_card_number("42424242424"),
            Err(ValidationError::CardNumberLength { digits: 11 })
        );
        assert_eq!(
            validate_card_number("4242 4242 4242 4242 4242"),
            Err(ValidationError::CardNumberLength { digits: 20 })
        );
        assert_eq!(
            validate_card_number(""),
            Err(ValidationError::CardNumberLength { digits: 0 })
        );
    }

    #[test]
    fn cvvs() {
        validate_cvv("123").unwrap();
        validate_cvv("1234").unwrap();
        for bad in ["12", "12345", "12a", " 123", "１２３"] {
            assert_eq!(validate_cvv(bad), Err(ValidationError::Cvv), "{bad}");
        }
    }

    #[test]
    fn last_four_digits() {
        assert_eq!(last_four("4111 1111 1111 1234"), "1234");
        assert_eq!(last_four("12"), "12");
    }
}
