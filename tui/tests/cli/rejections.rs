//! Every way the command line refuses input: each has a clear message, a
//! non-zero exit code, and leaves nothing saved or sent.

use crate::helpers::{Device, TestServer};

async fn pending(device: &Device) -> u64 {
    let status = device.ok(&["status", "--json"]).await.json();
    status["pending"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_clear_message_and_changes_nothing() {
    let server = TestServer::start().await;
    let device = Device::new(&server);

    // No profile yet.
    device.run(&["list"]).await.fails_with(1, "no profile in");
    device.run(&["status"]).await.fails_with(1, "no profile in");
    device.ok(&["register", "rita"]).await;
    device.ok(&["add", "text", "Note", "--text", "x"]).await;

    // No command and no terminal (a script): the full-screen vault
    // refuses to start and points at the commands.
    let out = device.cmd(&[]).run().await;
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stderr.contains("needs a terminal"), "{out:#?}");
    assert!(out.stderr.contains("gophkeeper --help"), "{out:#?}");

    // Cards: Luhn, expiry, CVV, and none of them echoed.
    let card = |number: &'static str, expiry: &'static str, cvv: &'static str| {
        [
            "add", "card", "C", "--number", number, "--expiry", expiry, "--holder", "H", "--cvv",
            cvv,
        ]
    };
    let out = device
        .run(&card("4111 1111 1111 1112", "01/30", "123"))
        .await
        .fails_with(1, "check digit is wrong");
    assert!(!out.stderr.contains("4111"), "{out:#?}");
    device
        .run(&card("4111 1111 1111 111x", "01/30", "123"))
        .await
        .fails_with(1, "only digits, spaces and dashes");
    device
        .run(&card("4111 1111 1111 1111", "13/30", "123"))
        .await
        .fails_with(2, "expiry month 13 is not between 1 and 12");
    device
        .run(&card("4111 1111 1111 1111", "0130", "123"))
        .await
        .fails_with(2, "not in the form MM/YY");
    let out = device
        .run(&card("4111 1111 1111 1111", "01/30", "98765"))
        .await
        .fails_with(1, "CVV must be 3 or 4 digits");
    assert!(!out.stderr.contains("98765"), "{out:#?}");

    // Missing or clashing flags (clap: exit code 2).
    device
        .run(&["add", "login", "L", "--password", "p"])
        .await
        .fails_with(2, "--username");
    device
        .run(&["add", "text", "T"])
        .await
        .fails_with(2, "--text");
    device
        .run(&["add", "card", "C", "--number", "4111111111111111"])
        .await
        .fails_with(2, "--expiry");
    device
        .run(&[
            "add",
            "login",
            "L",
            "--username",
            "u",
            "--password",
            "p",
            "--generate",
        ])
        .await
        .fails_with(2, "cannot be used with");
    device
        .run(&["add", "login", "L", "--username", "u", "--field", "novalue"])
        .await
        .fails_with(2, "expected KEY=VALUE");
    device
        .run(&[
            "add",
            "login",
            "L",
            "--username",
            "u",
            "--totp",
            "not base32!",
        ])
        .await
        .fails_with(1, "not base32");
    device
        .run(&["add", "login", "L", "--username", "u", "--url", "not a url"])
        .await
        .fails_with(1, "neither a URL nor a host name");
    device
        .run(&["edit", "Note"])
        .await
        .fails_with(1, "nothing to change");
    device
        .run(&["edit", "Note", "--cvv", "123"])
        .await
        .fails_with(1, "--cvv cannot be used on a text item");
    device
        .run(&["list", "--kind", "passport"])
        .await
        .fails_with(2, "invalid value 'passport'");
    device
        .run(&["frobnicate"])
        .await
        .fails_with(2, "unrecognized subcommand");
    device
        .run(&["get", "Note", "--field", "password"])
        .await
        .fails_with(1, "has no field \"password\"");
    let out_path = device.dir.path().join("x");
    device
        .run(&["get", "Note", "--out", out_path.to_str().unwrap()])
        .await
        .fails_with(1, "--out saves a binary item's file");

    // Unknown items.
    device
        .run(&["get", "Nope"])
        .await
        .fails_with(1, "no item \"Nope\"");
    device.run(&["rm", "Nope"]).await.fails_with(1, "no item");
    device
        .run(&["edit", "Nope", "--text", "x"])
        .await
        .fails_with(1, "no item");
    device
        .run(&["totp", "Note"])
        .await
        .fails_with(1, "has no TOTP secret");

    // 512 KiB + 1 byte does not fit a record: refused before anything is
    // queued or sent, text and file alike.
    let big = device.dir.path().join("big.txt");
    std::fs::write(&big, "a".repeat(512 * 1024 + 1)).unwrap();
    device
        .run(&["add", "text", "Big", "--from-file", big.to_str().unwrap()])
        .await
        .fails_with(1, "the limit is 512 KiB");
    device
        .run(&["add", "binary", "Big", "--file", big.to_str().unwrap()])
        .await
        .fails_with(1, "the limit is 512 KiB");
    let almost = device.dir.path().join("almost.bin");
    std::fs::write(&almost, vec![7_u8; 512 * 1024 - 20]).unwrap();
    device
        .run(&[
            "add",
            "binary",
            "Almost",
            "--file",
            almost.to_str().unwrap(),
        ])
        .await
        .fails_with(1, "the limit is 512 KiB");
    assert_eq!(pending(&device).await, 0);
    let list = device.ok(&["list"]).await.stdout;
    assert_eq!(list.lines().count(), 1, "{list}");

    // Wrong master password, and none at all without a terminal.
    device
        .cmd(&["list"])
        .env("GOPHKEEPER_PASSWORD", "wrong password")
        .run()
        .await
        .fails_with(1, "wrong master password");
    device
        .cmd(&["list"])
        .env_remove("GOPHKEEPER_PASSWORD")
        .run()
        .await
        .fails_with(1, "set GOPHKEEPER_PASSWORD");
    Device::new(&server)
        .cmd(&["register", "short"])
        .env("GOPHKEEPER_PASSWORD", "1234567")
        .run()
        .await
        .fails_with(1, "fewer than 12 characters");
    Device::new(&server)
        .run(&["register", "rita"])
        .await
        .fails_with(1, "that user name is taken");
    device
        .run(&["register", "another"])
        .await
        .fails_with(1, "belongs to rita");
}
