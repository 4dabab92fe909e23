use proptest::prelude::*;

use super::*;

/// RFC 6238 appendix B: (time, SHA-1, SHA-256, SHA-512), 8 digits, 30 s.
const VECTORS: [(u64, &str, &str, &str); 6] = [
    (59, "94287082", "46119246", "90693936"),
    (1_111_111_109, "07081804", "68084774", "25091201"),
    (1_111_111_111, "14050471", "67062674", "99943326"),
    (1_234_567_890, "89005924", "91819424", "93441116"),
    (2_000_000_000, "69279037", "90698825", "38618901"),
    (20_000_000_000, "65353130", "77737706", "47863826"),
];

/// The appendix's seeds: the ASCII digits repeated to the hash's length.
fn seed(len: usize) -> String {
    let text: String = "1234567890".chars().cycle().take(len).collect();
    base32_encode(text.as_bytes())
}

fn base32_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (String::new(), 0_u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[test]
fn rfc_6238_appendix_b_vectors() {
    let uri = |algorithm: &str, len: usize| {
        format!(
            "otpauth://totp/RFC:6238?secret={}&algorithm={algorithm}&digits=8&period=30",
            seed(len)
        )
    };
    let sha1 = Totp::parse(&uri("SHA1", 20)).unwrap();
    let sha256 = Totp::parse(&uri("SHA256", 32)).unwrap();
    let sha512 = Totp::parse(&uri("SHA512", 64)).unwrap();
    for (time, one, two, five) in VECTORS {
        assert_eq!(sha1.at(time).code, one, "SHA1 at {time}");
        assert_eq!(sha256.at(time).code, two, "SHA256 at {time}");
        assert_eq!(sha512.at(time).code, five, "SHA512 at {time}");
    }
}

#[test]
fn a_bare_secret_uses_the_defaults() {
    assert_eq!(seed(20), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    // Six digits are the last six of the eight (same truncation, mod 10^6).
    let totp = Totp::parse("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap();
    assert_eq!(
        (totp.algorithm(), totp.digits(), totp.period()),
        (Algorithm::Sha1, 6, 30)
    );
    assert_eq!(
        totp.at(59),
        Code {
            code: "287082".into(),
            remaining_seconds: 1
        }
    );
    assert_eq!(totp.at(1_111_111_109).code, "081804");
    assert_eq!(totp.at(60).remaining_seconds, 30);
    assert_eq!(
        Totp::parse("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====")
            .unwrap()
            .at(59)
            .code,
        "287082"
    );
    assert_eq!(totp.now().code.len(), 6);
}

#[test]
fn bad_secrets_get_clear_errors_that_do_not_echo_them() {
    assert_eq!(Totp::parse("  ").unwrap_err(), TotpError::Empty);
    assert_eq!(
        Totp::parse("not base32!").unwrap_err(),
        TotpError::NotBase32
    );
    assert_eq!(Totp::parse("A").unwrap_err(), TotpError::Empty);
    assert_eq!(
        Totp::parse("otpauth://hotp/x?secret=JBSWY3DP&counter=1").unwrap_err(),
        TotpError::NotTotp("hotp".into())
    );
    assert_eq!(
        Totp::parse("otpauth://totp/x?issuer=y").unwrap_err(),
        TotpError::MissingSecret
    );
    let err = Totp::parse("otpauth://totp/x?secret=JBSWY3DP&digits=12").unwrap_err();
    assert_eq!(err.to_string(), "unsupported TOTP digits \"12\"");
    let err = Totp::parse("otpauth://totp/x?secret=SECRETSECRET1").unwrap_err();
    assert!(!err.to_string().contains("SECRET"));
    assert!(!format!("{:?}", Totp::parse("JBSWY3DPEHPK3PXP").unwrap()).contains("key:"));
}

proptest! {
    #[test]
    fn parsing_never_panics(input in ".{0,200}") {
        if let Ok(totp) = Totp::parse(&input) {
            let code = totp.at(1_700_000_000);
            prop_assert_eq!(code.code.len(), totp.digits() as usize);
        }
    }

    #[test]
    fn uris_never_panic(query in "[a-z=&%0-9A-Z]{0,80}") {
        let _ = Totp::parse(&format!("otpauth://totp/x?{query}"));
    }

    #[test]
    fn any_key_round_trips_through_base32(key in proptest::collection::vec(any::<u8>(), 1..64)) {
        let decoded = decode_secret(&base32_encode(&key)).unwrap();
        prop_assert_eq!(decoded.as_bytes(), key.as_slice());
    }
}

#[test]
fn uri_parameters_are_read_in_any_case_and_the_label_issuer_wins() {
    let totp = Totp::parse(
        "OTPAUTH://TOTP/ACME%20Co:alice@example.com?SECRET=gezd-gnbv%20gy3t&Algorithm=sha256\
         &DIGITS=8&Period=60&issuer=Other",
    )
    .unwrap();
    assert_eq!(
        (totp.algorithm(), totp.digits(), totp.period()),
        (Algorithm::Sha256, 8, 60)
    );
    assert_eq!(totp.issuer(), Some("ACME Co"));
    assert_eq!(totp.at(60).remaining_seconds, 60);
    let totp = Totp::parse("otpauth://totp/alice?secret=JBSWY3DP&issuer=ACME").unwrap();
    assert_eq!(totp.issuer(), Some("ACME"));
    assert_eq!(Totp::parse("JBSWY3DP").unwrap().issuer(), None);
    // totp-rs builds codes in a u32: 10 digits cannot be represented.
    let err = Totp::parse("otpauth://totp/x?secret=JBSWY3DP&digits=10").unwrap_err();
    assert_eq!(err.to_string(), "unsupported TOTP digits \"10\"");
    assert_eq!(
        Totp::parse("otpauth://totp/x?secret=JBSWY3DP&digits=9")
            .unwrap()
            .at(59)
            .code
            .len(),
        9
    );
    let err = Totp::parse("otpauth://totp/x?secret=JBSWY3DP&period=0").unwrap_err();
    assert_eq!(err.to_string(), "unsupported TOTP period \"0\"");
    let err = Totp::parse("otpauth://totp/x?secret=JBSWY3DP&algorithm=MD5").unwrap_err();
    assert_eq!(err.to_string(), "unsupported TOTP algorithm \"MD5\"");
    assert_eq!(
        Totp::parse("otpauth://totp/x?secret=JBSW%21").unwrap_err(),
        TotpError::NotBase32
    );
}
