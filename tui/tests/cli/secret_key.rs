//! `register --secret-key`, the emergency kit, a new device's `login` with
//! GOPHKEEPER_SECRET_KEY (refused without it, a typo named as one), and
//! `secret-key enable|kit` for an account made without one.

use crate::helpers::{Device, TestServer};

/// The kit's `Secret Key:` line.
fn kit_key(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("Secret Key:"))
        .unwrap_or_else(|| panic!("no kit in {stdout:?}"))
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_secret_key_is_printed_once_and_a_new_device_needs_it() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    let out = laptop.ok(&["register", "sally", "--secret-key"]).await;
    assert!(out.stdout.contains("emergency kit"), "{out:#?}");
    assert!(out.stdout.contains("your vault is lost"), "{out:#?}");
    assert!(out.stdout.contains("User name:   sally"), "{out:#?}");
    let key = kit_key(&out.stdout);
    assert!(key.starts_with("GK-") && key.len() == 37, "{key}");
    assert!(!out.stderr.contains(&key), "the key goes to stdout only");
    laptop.ok(&["add", "text", "Note", "--text", "kept"]).await;

    // A new device without the key: told what to do; no terminal to ask on.
    phone
        .run(&["login", "sally"])
        .await
        .fails_with(1, "GOPHKEEPER_SECRET_KEY");
    let typo = format!("{}{}", &key[..key.len() - 1], "U");
    phone
        .cmd(&["login", "sally"])
        .env("GOPHKEEPER_SECRET_KEY", &typo)
        .run()
        .await
        .fails_with(1, "check it for a typo");
    phone
        .cmd(&["login", "sally"])
        .env("GOPHKEEPER_SECRET_KEY", &key.to_lowercase())
        .run()
        .await
        .ok();
    let out = phone.ok(&["get", "Note", "--field", "text"]).await;
    assert!(out.stdout.contains("kept"), "{out:#?}");
    // The device keeps it: the kit again, from this device.
    let out = phone.ok(&["secret-key", "kit"]).await;
    assert_eq!(kit_key(&out.stdout), key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_key_turned_on_later_signs_other_devices_out() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "tom"]).await;
    phone.ok(&["login", "tom"]).await;
    laptop
        .run(&["secret-key", "kit"])
        .await
        .fails_with(1, "has no Secret Key");
    let out = laptop.ok(&["secret-key", "enable"]).await;
    assert!(
        out.stderr.contains("Other devices were signed out"),
        "{out:#?}"
    );
    let key = kit_key(&out.stdout);
    laptop
        .run(&["secret-key", "enable"])
        .await
        .fails_with(1, "already has a Secret Key");
    laptop.ok(&["sync"]).await;
    phone
        .run(&["sync"])
        .await
        .fails_with(1, "must log in again");
    phone
        .run(&["login", "tom"])
        .await
        .fails_with(1, "GOPHKEEPER_SECRET_KEY");
    phone
        .cmd(&["login", "tom"])
        .env("GOPHKEEPER_SECRET_KEY", &key)
        .run()
        .await
        .ok();
    phone.ok(&["sync"]).await;
}
