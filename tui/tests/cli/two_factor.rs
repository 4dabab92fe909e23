//! `gophkeeper 2fa`: turned on by answering the code of the secret it
//! prints; then a new device's `login` reads a code from standard input or
//! GOPHKEEPER_2FA_CODE and fails clearly without one; `2fa disable` takes a
//! recovery code.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::{Device, TestServer};

fn code_of(secret_base32: &str, ahead: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build_noncompliant()
        .generate(now + ahead)
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_is_turned_on_asked_at_login_and_turned_off() {
    let server = TestServer::start().await;
    let laptop = Device::new(&server);
    laptop.ok(&["register", "tess"]).await;
    let status = laptop.ok(&["2fa", "status"]).await;
    assert_eq!(status.stdout, "two-factor login: off\n");

    // `enable` prints the secret, then reads a code of it.
    let mut child = laptop.cmd(&["2fa", "enable"]).spawn();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut secret = None;
    while let Some(line) = stdout.next_line().await.unwrap() {
        if line.contains("type in the secret") {
            secret = stdout.next_line().await.unwrap();
            break;
        }
    }
    let secret = secret.expect("the secret is printed").trim().to_owned();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{}\n", code_of(&secret, 0)).as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let mut rest = Vec::new();
    while let Some(line) = stdout.next_line().await.unwrap() {
        rest.push(line);
    }
    assert!(child.wait().await.unwrap().success(), "{rest:?}");
    let recovery: Vec<String> = rest
        .iter()
        .skip_while(|line| !line.starts_with("Two-factor login is on"))
        .skip(1)
        .map(|line| line.trim().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10, "{rest:?}");
    let status = laptop.ok(&["2fa", "status"]).await;
    assert_eq!(
        status.stdout,
        "two-factor login: on (10 recovery code(s) left)\n"
    );

    // No code at hand: a clear refusal.
    let phone = Device::new(&server);
    phone
        .run(&["login", "tess"])
        .await
        .fails_with(1, "needs a second factor");
    phone
        .cmd(&["login", "tess"])
        .input(&format!("{}\n", code_of(&secret, 30)))
        .run()
        .await
        .ok();
    let tablet = Device::new(&server);
    tablet
        .cmd(&["login", "tess"])
        .env("GOPHKEEPER_2FA_CODE", &recovery[0])
        .run()
        .await
        .ok();
    Device::new(&server)
        .cmd(&["login", "tess"])
        .env("GOPHKEEPER_2FA_CODE", &recovery[0])
        .run()
        .await
        .fails_with(1, "wrong, expired or already used");

    laptop
        .cmd(&["2fa", "disable"])
        .env("GOPHKEEPER_2FA_CODE", &recovery[1])
        .run()
        .await
        .ok();
    let status = laptop.ok(&["2fa", "status"]).await;
    assert_eq!(status.stdout, "two-factor login: off\n");
    Device::new(&server).ok(&["login", "tess"]).await;
}
