//! `rotate-key` and `passwd --rotate-key`: a new vault key, other devices
//! signed out until they log in, every item readable everywhere after.

use crate::helpers::{Device, TestServer};

const NEW: &str = "a fresh and long passphrase 2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_key_signs_other_devices_out_and_they_read_everything_after_login() {
    let server = TestServer::start().await;
    let (laptop, mut phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "rita"]).await;
    laptop
        .ok(&["add", "text", "Note", "--text", "before"])
        .await;
    phone.ok(&["login", "rita"]).await;

    laptop
        .cmd(&["rotate-key"])
        .env("GOPHKEEPER_PASSWORD", "not it at all")
        .run()
        .await
        .fails_with(1, "wrong master password");
    let out = laptop.ok(&["rotate-key"]).await;
    assert!(
        out.stderr.contains("Vault key rotated (key epoch 2)"),
        "{out:#?}"
    );
    assert!(!out.stderr.contains("still sealed"), "{out:#?}");
    phone
        .run(&["sync"])
        .await
        .fails_with(1, "gophkeeper login rita");
    phone.ok(&["login", "rita"]).await;
    let out = phone.ok(&["get", "Note", "--field", "text"]).await;
    assert_eq!(out.stdout.trim(), "before");

    // With a new password in the same step: a third epoch.
    let out = laptop
        .cmd(&["passwd", "--rotate-key"])
        .env("GOPHKEEPER_NEW_PASSWORD", NEW)
        .run()
        .await
        .ok();
    assert!(out.stderr.contains("key epoch 3"), "{out:#?}");
    assert!(out.stderr.contains("Master password changed"), "{out:#?}");
    phone.password = NEW.into();
    phone.ok(&["login", "rita"]).await;
    let out = phone.ok(&["get", "Note", "--field", "text"]).await;
    assert_eq!(out.stdout.trim(), "before");
}
