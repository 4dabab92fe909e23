//! The three ways to trust the server, first contact, and a changed
//! certificate.

use gophkeeper_client::vault::{
    ApiError, ConnectOptions, Fingerprint, TransportError, Trust, TrustRequest, Vault, VaultError,
};

use crate::helpers::{Device, TestServer, note, password};

#[tokio::test]
async fn first_contact_pins_the_fingerprint_and_a_changed_certificate_is_refused() {
    let mut server = TestServer::start().await;
    let device = Device::new();

    // Refusing the stranger sends nothing and stores nothing.
    let mut options = ConnectOptions::new(server.url());
    options.trust = TrustRequest::Auto;
    let mut declined = None;
    let err = Vault::register(
        &options,
        device.profile(),
        "alice",
        &password(),
        &mut |fp| {
            declined = Some(fp.to_owned());
            false
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, VaultError::Transport(TransportError::Untrusted { .. })),
        "{err}"
    );
    // The system roots do not know the server's private CA, so the person
    // was asked, and shown the server's real fingerprint.
    assert_eq!(declined.as_deref(), Some(server.fingerprint().as_str()));

    let mut shown = None;
    let vault = Vault::register(
        &options,
        device.profile(),
        "alice",
        &password(),
        &mut |fp| {
            shown = Some(fp.to_owned());
            true
        },
    )
    .await
    .unwrap();
    let pinned = Fingerprint::parse(&server.fingerprint()).unwrap();
    assert_eq!(vault.profile().trust, Trust::Pinned(pinned.clone()));
    vault.add(&note("first", "hello")).await.unwrap();
    drop(vault);

    // A later login uses the stored pin without asking.
    let vault = Vault::login(
        &options,
        device.profile(),
        "alice",
        &password(),
        &mut |_| panic!("must not ask again"),
    )
    .await
    .unwrap();
    drop(vault);

    // Someone else answers at the same address with another certificate.
    let _impostor_dir = server.replace_with_impostor().await;
    let impostor = server.fingerprint();
    assert_ne!(impostor, pinned.to_string());
    let vault = device.unlock().await;
    let err = vault.sync().await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            VaultError::Api(ApiError::Transport(
                TransportError::CertificateChanged { .. }
            ))
        ),
        "{err:?}"
    );
    assert!(message.contains("SERVER CERTIFICATE CHANGED"), "{message}");
    assert!(message.contains("possible interception"), "{message}");
    assert!(message.contains(pinned.as_str()), "{message}");
    assert!(message.contains(&impostor), "{message}");
    // The cached vault still reads.
    assert_eq!(vault.list().await.unwrap().len(), 1);
    drop(vault);

    // Logging in again does not offer to trust the impostor either.
    let err = Vault::login(
        &options,
        device.profile(),
        "alice",
        &password(),
        &mut |_| panic!("a changed certificate must never be offered for trust"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("possible interception"), "{err}");
}

#[tokio::test]
async fn a_configured_pin_or_ca_file_must_match() {
    let server = TestServer::start().await;
    let other = TestServer::start().await;
    let device = Device::new();

    let wrong_pin = Fingerprint::parse(&other.fingerprint()).unwrap();
    let mut options = ConnectOptions::new(server.url());
    options.trust = TrustRequest::Configured(Trust::Pinned(wrong_pin));
    let err = Vault::register(&options, device.profile(), "bob", &password(), &mut |_| {
        true
    })
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&other.fingerprint()), "{message}");
    assert!(message.contains(&server.fingerprint()), "{message}");

    // Another server's CA does not vouch for this one.
    options.trust = TrustRequest::Configured(Trust::CaFile(other.ca()));
    let err = Vault::register(&options, device.profile(), "bob", &password(), &mut |_| {
        true
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, VaultError::Transport(TransportError::Untrusted { .. })),
        "{err}"
    );

    // The right CA file works, and is what the profile remembers.
    options.trust = TrustRequest::Configured(Trust::CaFile(server.ca()));
    let vault = Vault::register(&options, device.profile(), "bob", &password(), &mut |_| {
        panic!("a CA file needs no question")
    })
    .await
    .unwrap();
    assert_eq!(vault.profile().trust, Trust::CaFile(server.ca()));
    vault.add(&note("n", "t")).await.unwrap();
    assert_eq!(vault.status().await.unwrap().pending, 0);

    // The right pin works too.
    let pin = Fingerprint::parse(&server.fingerprint()).unwrap();
    options.trust = TrustRequest::Configured(Trust::Pinned(pin));
    let second = Device::new();
    let vault = Vault::login(&options, second.profile(), "bob", &password(), &mut |_| {
        false
    })
    .await
    .unwrap();
    assert_eq!(vault.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unreachable_server_is_an_offline_error_not_a_trust_question() {
    let mut server = TestServer::start().await;
    let url = server.url();
    server.stop().await;
    let device = Device::new();
    let options = ConnectOptions::new(url);
    let err = Vault::register(
        &options,
        device.profile(),
        "carol",
        &password(),
        &mut |_| panic!("nothing to ask about"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            VaultError::Transport(TransportError::Unreachable { .. })
        ),
        "{err}"
    );
}
