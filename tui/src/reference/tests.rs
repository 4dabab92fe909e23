use proptest::prelude::*;

use super::*;

fn reference(item: &str, field: &str) -> Reference {
    Reference {
        item: item.into(),
        field: field.into(),
    }
}

#[test]
fn references_parse_with_percent_encoding_and_plain_spaces() {
    assert_eq!(
        Reference::parse("gk://GitHub/password").unwrap(),
        reference("GitHub", "password")
    );
    assert_eq!(
        Reference::parse(" gk://Bank%2FSavings/pin ").unwrap(),
        reference("Bank/Savings", "pin")
    );
    assert_eq!(
        Reference::parse("gk://My Mail/api key").unwrap(),
        reference("My Mail", "api key")
    );
    let id = "0190c0de-0000-7000-8000-000000000001";
    assert_eq!(
        Reference::parse(&format!("gk://{id}/username")).unwrap(),
        reference(id, "username")
    );
    assert_eq!(
        reference("Bank/Savings", "my pin").to_string(),
        "gk://Bank%2FSavings/my%20pin"
    );
}

#[test]
fn malformed_references_are_refused_by_name() {
    for bad in [
        "gk://GitHub",
        "gk:///password",
        "gk://GitHub/",
        "gk://a/b/c",
    ] {
        assert_eq!(
            Reference::parse(bad),
            Err(ReferenceError::Shape(bad.into())),
            "{bad}"
        );
    }
    assert!(matches!(
        Reference::parse("https://x/y"),
        Err(ReferenceError::NotAReference(_))
    ));
    assert!(matches!(
        Reference::parse("gk://%FF/x"),
        Err(ReferenceError::Encoding(_))
    ));
}

#[test]
fn templates_find_references_and_leave_other_placeholders() {
    let template = "user={{ gk://db/username }}\npass={{gk://db/password}}\nhost={{ host }}\n";
    let found = in_template(template).unwrap();
    let refs: Vec<&Reference> = found.iter().map(|(_, r)| r).collect();
    assert_eq!(
        refs,
        [&reference("db", "username"), &reference("db", "password")]
    );
    let spans: Vec<(Range<usize>, &str)> = found
        .iter()
        .zip(["admin", "s3cret"])
        .map(|((range, _), value)| (range.clone(), value))
        .collect();
    assert_eq!(
        fill(template, &spans).as_str(),
        "user=admin\npass=s3cret\nhost={{ host }}\n"
    );
    assert_eq!(
        in_template("a {{ gk://db/password"),
        Err(ReferenceError::Unclosed(2))
    );
    assert!(in_template("{{ unclosed other").unwrap().is_empty());
    assert!(matches!(
        in_template("{{ gk://db }}"),
        Err(ReferenceError::Shape(_))
    ));
}

#[test]
fn secrets_are_masked_even_across_reads() {
    let mut masker = Masker::new(["hunter2", "hunter22", ""]);
    let mut out = masker.push(b"pw: hun");
    out.extend(masker.push(b"ter22 and hunter2."));
    out.extend(masker.push(b" a hu"));
    out.extend(masker.finish());
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("pw: {CONCEALED} and {CONCEALED}. a hu")
    );
}

proptest! {
    /// However the output is cut into reads, the secret never comes out
    /// and everything else does, unchanged.
    #[test]
    fn masking_does_not_depend_on_how_output_is_split(
        before in "[a-z ]{0,40}",
        after in "[a-z ]{0,40}",
        cuts in proptest::collection::vec(0usize..100, 0..6),
    ) {
        let secret = "S3cr3t-Value";
        let text = format!("{before}{secret}{after}{secret}");
        let mut cuts = cuts;
        cuts.push(text.len());
        cuts.sort_unstable();
        let mut masker = Masker::new([secret]);
        let (mut out, mut at) = (Vec::new(), 0);
        for cut in cuts {
            let cut = cut.min(text.len()).max(at);
            out.extend(masker.push(&text.as_bytes()[at..cut]));
            at = cut;
        }
        out.extend(masker.finish());
        let out = String::from_utf8(out).unwrap();
        prop_assert_eq!(out, format!("{before}{CONCEALED}{after}{CONCEALED}"));
    }
}
