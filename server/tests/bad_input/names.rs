//! User names and device names: empty, a megabyte long, and Unicode that
//! hides, reorders or re-spells characters. A name is refused or folded to
//! one comparison key (NFKC, lower case), never stored as a look-alike.

use gophkeeper_proto::v1;
use prost::Message;
use tonic::Code;

use crate::fixture::*;
use crate::helpers::*;

async fn register(fx: &Fixture, username: &str) -> Result<String, tonic::Status> {
    fx.app.register(username, &auth_key(username)).await
}

/// Every public call that takes a user name refuses the bad one the same
/// way, so none of them is a side door.
async fn assert_name_refused(fx: &Fixture, username: &str, expected: &str) {
    let status = register(fx, username).await.unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(message, expected, "register {username:?}");
    let status = fx.app.login(username, &[7; 32]).await.unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(message, expected, "login {username:?}");
    let status = fx
        .app
        .account
        .clone()
        .prelogin(v1::PreloginRequest {
            username: username.into(),
        })
        .await
        .unwrap_err();
    let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    assert_eq!(message, expected, "prelogin {username:?}");
}

#[tokio::test]
async fn an_empty_user_name_is_refused_everywhere() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    assert_name_refused(&fx, "", "user name is empty").await;
    fx.assert_unchanged(&before).await;
}

/// A 1 MB name fits under the 1 MiB request limit, so it reaches the
/// name check, which counts at most 65 characters before refusing.
#[tokio::test]
async fn a_one_megabyte_user_name_is_refused_everywhere() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let started = std::time::Instant::now();
    assert_name_refused(
        &fx,
        &"a".repeat(1_000_000),
        "user name is longer than 64 characters",
    )
    .await;
    // Even multi-byte: 1 MB of 4-byte emoji.
    assert_name_refused(
        &fx,
        &"\u{1F511}".repeat(250_000),
        "user name is longer than 64 characters",
    )
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    fx.assert_unchanged(&before).await;
}

#[tokio::test]
async fn invisible_and_reordering_characters_in_a_user_name_are_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let control = "user name must not contain control or invisible characters";
    for name in [
        "al\u{0}ice",     // NUL
        "\u{202E}ecila",  // right-to-left override
        "ali\u{200D}ce",  // zero-width joiner
        "\u{FEFF}alice",  // byte-order mark
        "alice\u{2066}x", // left-to-right isolate
        "al\u{7}ice",     // bell
        "ali\u{AD}ce",    // soft hyphen
    ] {
        assert_name_refused(&fx, name, control).await;
    }
    assert_name_refused(
        &fx,
        " alice",
        "user name must not start or end with white space",
    )
    .await;
    assert_name_refused(
        &fx,
        "alice\u{3000}",
        "user name must not start or end with white space",
    )
    .await;
    fx.assert_unchanged(&before).await;
}

/// 18 characters of NFKC per U+FDFA: four of them are 4 characters typed
/// and 72 compared, over the limit once normalised.
#[tokio::test]
async fn a_name_that_grows_past_the_limit_when_normalised_is_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    assert_name_refused(
        &fx,
        &"\u{FDFA}".repeat(4),
        "user name is longer than 64 characters",
    )
    .await;
    fx.assert_unchanged(&before).await;
}

/// Combining accents, full-width letters and the Kelvin sign spell an
/// existing name another way: each is the same account, so nobody can
/// register a look-alike of someone else's name.
#[tokio::test]
async fn other_unicode_spellings_of_a_name_are_the_same_account() {
    let fx = Fixture::new().await;
    register(&fx, "Ren\u{e9} Kelvin").await.unwrap();
    let before = fx.state().await;
    for spelling in [
        "Rene\u{301} Kelvin",      // combining acute accent (NFD)
        "REN\u{c9} KELVIN",        // upper case
        "Ren\u{e9} \u{212A}elvin", // KELVIN SIGN
        "\u{FF32}en\u{e9} Kelvin", // full-width R
    ] {
        let status = register(&fx, spelling).await.unwrap_err();
        let message = assert_status(&status, Code::AlreadyExists, "USERNAME_TAKEN");
        assert_eq!(message, "user name is taken", "{spelling:?}");
    }
    fx.assert_unchanged(&before).await;
    // And logging in under another spelling reaches the one account.
    let nfc = fx
        .app
        .login("Ren\u{e9} Kelvin", &auth_key("Ren\u{e9} Kelvin"))
        .await
        .unwrap();
    let nfd = fx
        .app
        .login("Rene\u{301} \u{212A}elvin", &auth_key("Ren\u{e9} Kelvin"))
        .await
        .unwrap();
    assert_eq!(nfc.user_id, nfd.user_id);
}

/// Text that is not UTF-8 at all (an unpaired surrogate in CESU-8, an
/// overlong NUL) cannot even be decoded as a protobuf `string`.
#[tokio::test]
async fn a_user_name_that_is_not_utf8_is_refused_by_the_decoder() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    for bytes in [&b"al\xED\xA0\x80ice"[..], b"al\xC0\x80ice", b"\xFF"] {
        let mut request = v1::LoginRequest {
            username: String::new(),
            auth_key: vec![7; 32],
            device_name: "laptop".into(),
            second_factor: String::new(),
        }
        .encode_to_vec();
        request.push(0x0A);
        request.push(bytes.len() as u8);
        request.extend_from_slice(bytes);
        let status = fx
            .raw("/gophkeeper.v1.Account/Login", request, None)
            .await
            .unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "MALFORMED_REQUEST");
        assert_eq!(
            message,
            "failed to decode Protobuf message: LoginRequest.username: invalid string value: data is not UTF-8 encoded"
        );
    }
    fx.assert_unchanged(&before).await;
}

/// A device name is shown in every other device's session list: a
/// right-to-left override or a zero-width character there could make a
/// thief's session pass for "laptop".
#[tokio::test]
async fn a_device_name_with_invisible_or_too_many_characters_is_refused() {
    let fx = Fixture::new().await;
    let before = fx.state().await;
    let key = auth_key(&fx.alice.username);
    let expected = "device_name must be at most 64 printable characters";
    for device_name in [
        "\u{202E}potpal".to_owned(),
        "lap\u{200B}top".to_owned(),
        "laptop\u{0}".to_owned(),
        "x".repeat(65),
        "x".repeat(1_000_000),
    ] {
        let (start, finalization) = opaque_login_start(&fx.app.account, &fx.alice.username, &key)
            .await
            .unwrap();
        let status = fx
            .app
            .account
            .clone()
            .login_finish(v1::LoginFinishRequest {
                login_id: start.login_id,
                credential_finalization: finalization,
                device_name: device_name.clone(),
                second_factor: String::new(),
            })
            .await
            .unwrap_err();
        let message = assert_status(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
        assert_eq!(
            message,
            expected,
            "{:?}",
            &device_name[..device_name.len().min(20)]
        );
    }
    fx.assert_unchanged(&before).await;
}
