//! Published test vectors, run through this crate's own code paths, plus the
//! few tests that pay for a real 64 MiB Argon2id.

use secrecy::SecretString;

use super::kdf::argon2id;
use super::keys::hkdf_sha256;
use super::secret::KeyBytes;
use super::{CryptoError, KdfParams, MasterKey, SaltBinding, VaultKey, VaultKeys, aead};

fn unhex(s: &str) -> Vec<u8> {
    let compact: String = s.split_whitespace().collect();
    hex::decode(compact).unwrap()
}

/// RFC 9106 §5.3: Argon2id v0x13, m = 32 KiB, t = 3, p = 4, with secret and
/// associated data.
#[test]
fn argon2id_rfc9106_section_5_3() {
    let mut tag = [0; 32];
    argon2id(
        &[0x01; 32],
        &[0x02; 16],
        (32, 3, 4),
        Some(&[0x03; 8]),
        &[0x04; 12],
        &mut tag,
    )
    .unwrap();
    assert_eq!(
        tag.to_vec(),
        unhex(
            "0d 64 0d f5 8d 78 76 6c 08 c0 37 a3 4a 8b 53 c9
             d0 1e f0 45 2d 75 b6 5e b5 25 20 e9 6b 01 e6 59"
        )
    );
}

/// draft-irtf-cfrg-xchacha-03 §A.3.1, through our envelope: the envelope must
/// be exactly `version ‖ nonce ‖ published ciphertext ‖ published tag`.
#[test]
fn xchacha20poly1305_draft_irtf_cfrg_xchacha_03_a_3_1() {
    let plaintext: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you \
        only one tip for the future, sunscreen would be it.";
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let mut key = KeyBytes::zeroed();
    key.as_mut().copy_from_slice(&unhex(
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
    ));
    let nonce: [u8; 24] = unhex("404142434445464748494a4b4c4d4e4f5051525354555657")
        .try_into()
        .unwrap();
    let ciphertext = unhex(
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
         731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
         2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
         21f9664c97637da9768812f615c68b13b52e",
    );
    let tag = unhex("c0875924c1c7987947deafd8780acf49");

    let sealed = aead::seal_with_nonce(&key, &[7], &nonce, &aad, plaintext.len(), |body| {
        body.copy_from_slice(plaintext);
    });
    let mut expected = vec![7];
    expected.extend_from_slice(&nonce);
    expected.extend_from_slice(&ciphertext);
    expected.extend_from_slice(&tag);
    assert_eq!(sealed, expected);
    assert_eq!(
        aead::open(&key, 7, &aad, &sealed).unwrap().as_slice(),
        plaintext
    );
    assert!(aead::open(&key, 7, b"other aad", &sealed).is_err());
}

/// RFC 5869 Appendix A.1 (test case 1).
#[test]
fn hkdf_sha256_rfc5869_test_case_1() {
    let ikm = [0x0b; 22];
    let salt = unhex("000102030405060708090a0b0c");
    let info = unhex("f0f1f2f3f4f5f6f7f8f9");
    let mut okm = [0; 42];
    hkdf_sha256(&ikm, Some(&salt), &info, &mut okm).unwrap();
    assert_eq!(
        okm.to_vec(),
        unhex(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf
             34007208d5b887185865"
        )
    );
}

/// The real thing, end to end: three 64 MiB Argon2id runs (kept few on purpose,
/// they are the slowest part of the suite).
#[test]
fn real_derivation_normalises_and_unlocks_the_vault() {
    let params = KdfParams::generate_default();
    let composed = SecretString::from("caf\u{e9} \u{1F511}");
    let decomposed = SecretString::from("cafe\u{301} \u{1F511}");

    let a = MasterKey::derive(&composed, &params).unwrap();
    let b = MasterKey::derive(&decomposed, &params).unwrap();
    assert_eq!(a.auth_key().as_bytes(), b.auth_key().as_bytes());

    // Registration on one device, login on another.
    let vault = VaultKeys::first(VaultKey::generate());
    let wrapped = a.key_encryption_key().wrap(&vault);
    let unlocked = b.key_encryption_key().unwrap(&wrapped).unwrap();
    assert!(unlocked.same_as(&vault));

    // Same password, other salt: a different key that cannot unwrap.
    let mut other_salt = params.clone();
    other_salt.salt[0] ^= 1;
    let c = MasterKey::derive_from_bytes("caf\u{e9} \u{1F511}".as_bytes(), &other_salt).unwrap();
    assert_ne!(a.auth_key().as_bytes(), c.auth_key().as_bytes());
    assert!(matches!(
        c.key_encryption_key().unwrap(&wrapped),
        Err(CryptoError::DecryptionFailed)
    ));
}

#[test]
fn derive_refuses_weak_parameters_before_hashing() {
    let weak = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
        salt: [0; 16],
        binding: SaltBinding::Unbound,
        secret_key: false,
    };
    let err = MasterKey::derive(&SecretString::from("pw"), &weak).unwrap_err();
    assert!(matches!(err, CryptoError::KdfTooWeak { .. }));
}
