//! The signed order-state codec: what it accepts and everything it must refuse.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use payment_core::{
    AccountId, ConfigError, GatewayId, KeyRing, Rial, SigningKey,
    state::{MAX_STATE_LEN, OrderState, StateCodec, StateError},
    time::{Duration, OffsetDateTime},
};

const NAME: &str = "pay_novinpal_0011aabbccdd";

fn key(id: u8, fill: u8) -> SigningKey {
    SigningKey::new(id, vec![fill; 32]).unwrap()
}

fn codec() -> StateCodec {
    StateCodec::new(KeyRing::new(key(1, 0x11)))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_760_000_000).unwrap()
}

fn state() -> OrderState {
    OrderState::new(
        GatewayId::NovinPal,
        "INV-1001".parse().unwrap(),
        Rial::new(1_250_000),
        "447515262",
        now(),
        Duration::minutes(30),
    )
}

#[test]
fn round_trip_keeps_every_field() {
    let state = state();
    let value = codec().seal(&state, NAME);
    let back = codec()
        .open(&value, NAME, Some(&GatewayId::NovinPal.into()), now())
        .unwrap();
    assert_eq!(back, state);
    assert_eq!(back.order_id().as_str(), "INV-1001");
    assert_eq!(back.amount(), Rial::new(1_250_000));
    assert_eq!(back.gateway_ref(), "447515262");
    assert_eq!(back.expires_at() - back.issued_at(), 30 * 60);
    // Compact: well under a typical 4 KiB cookie limit.
    assert!(value.len() < 160, "{} bytes", value.len());
}

#[test]
fn a_later_attempt_keeps_its_number_and_names_its_own_invoice_id() {
    let first = state();
    assert_eq!(
        (first.attempt(), first.invoice_id().as_ref()),
        (1, "INV-1001")
    );
    let again = state().with_attempt(3);
    let back = codec()
        .open(&codec().seal(&again, NAME), NAME, None, now())
        .unwrap();
    assert_eq!(back, again);
    assert_eq!(
        (back.attempt(), back.invoice_id().as_ref()),
        (3, "INV-1001-3")
    );
    // Inopal takes letters and digits only.
    let inopal = OrderState::new(
        GatewayId::Inopal,
        "INV1001".parse().unwrap(),
        Rial::new(50_000),
        "r",
        now(),
        Duration::minutes(30),
    )
    .with_attempt(2);
    assert_eq!(inopal.invoice_id(), "INV1001R2");
    assert_eq!(state().with_attempt(0).attempt(), 1);
}

#[test]
fn a_payable_amount_with_a_fee_is_kept_and_one_without_is_the_amount() {
    let plain = state();
    assert_eq!(plain.payable_amount(), Rial::new(1_250_000));
    let with_fee = state().with_payable_amount(Rial::new(1_262_500));
    let back = codec()
        .open(&codec().seal(&with_fee, NAME), NAME, None, now())
        .unwrap();
    assert_eq!(back.payable_amount(), Rial::new(1_262_500));
    assert_eq!(back.amount(), Rial::new(1_250_000));
    assert_eq!(back, with_fee);
    // A payable amount equal to the amount is no fee: the state is unchanged.
    assert_eq!(plain.clone().with_payable_amount(plain.amount()), plain);
}

/// A value signed in the layout before attempts (version 2), as a shop upgraded while a
/// payment was in flight holds it: it opens, as a first attempt.
#[test]
fn a_state_signed_before_attempts_opens_as_a_first_attempt() {
    use hmac::{Hmac, Mac};
    let state = state();
    let v3 = URL_SAFE_NO_PAD.decode(codec().seal(&state, NAME)).unwrap();
    // version(1) key(1) issued(8) expires(8) amount(8) nonce(16), then the attempt byte
    // and the payable amount (8), which version 2 does not have.
    let mut body = v3[..v3.len() - 32].to_vec();
    assert_eq!(body[0], 3);
    body[0] = 2;
    body.drain(42..51);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&[0x11; 32]).unwrap();
    mac.update(b"payment-core/order-state");
    mac.update(&[0]);
    mac.update(&(NAME.len() as u64).to_be_bytes());
    mac.update(NAME.as_bytes());
    mac.update(&body);
    body.extend_from_slice(&mac.finalize().into_bytes());
    let back = codec()
        .open(&URL_SAFE_NO_PAD.encode(&body), NAME, None, now())
        .unwrap();
    assert_eq!(back, state);
    assert_eq!(back.attempt(), 1);
    // Any other version is refused.
    let mut wrong = v3.clone();
    wrong[0] = 4;
    assert_eq!(
        codec().open(&URL_SAFE_NO_PAD.encode(&wrong), NAME, None, now()),
        Err(StateError::Malformed)
    );
}

#[test]
fn nonces_differ_between_states() {
    assert_ne!(state().nonce(), state().nonce());
}

#[test]
fn every_single_changed_byte_is_rejected() {
    let value = codec().seal(&state(), NAME);
    let raw = URL_SAFE_NO_PAD.decode(&value).unwrap();
    for i in 0..raw.len() {
        for flip in [0x01u8, 0x80] {
            let mut changed = raw.clone();
            changed[i] ^= flip;
            let tampered = URL_SAFE_NO_PAD.encode(&changed);
            let err = codec()
                .open(&tampered, NAME, None, now())
                .expect_err("a changed byte must not verify");
            assert!(
                matches!(
                    err,
                    StateError::BadSignature | StateError::Malformed | StateError::UnknownKey
                ),
                "byte {i}: {err:?}"
            );
        }
    }
}

#[test]
fn another_key_is_rejected() {
    let value = StateCodec::new(KeyRing::new(key(1, 0x22))).seal(&state(), NAME);
    assert_eq!(
        codec().open(&value, NAME, None, now()),
        Err(StateError::BadSignature)
    );
}

#[test]
fn truncated_and_garbage_values_are_rejected() {
    let value = codec().seal(&state(), NAME);
    for len in [0, 1, 10, value.len() / 2, value.len() - 1] {
        assert!(
            codec().open(&value[..len], NAME, None, now()).is_err(),
            "len {len}"
        );
    }
    assert_eq!(
        codec().open("not base64 !!", NAME, None, now()),
        Err(StateError::Malformed)
    );
    let huge = "A".repeat(MAX_STATE_LEN + 1);
    assert_eq!(
        codec().open(&huge, NAME, None, now()),
        Err(StateError::Malformed)
    );
}

#[test]
fn every_value_up_to_the_length_limit_opens() {
    // Gateway references of every length around the limit: each sealed value opens if it
    // is within MAX_STATE_LEN and is refused (not a panic) past it.
    let limit = MAX_STATE_LEN;
    let (mut opened, mut refused, mut at_limit) = (0, 0, false);
    for ref_len in 600..800 {
        let gateway_ref = "7".repeat(ref_len);
        let state = OrderState::new(
            GatewayId::NovinPal,
            "INV-1001".parse().unwrap(),
            Rial::new(1_250_000),
            gateway_ref.as_str(),
            now(),
            Duration::minutes(30),
        );
        let value = codec().seal(&state, NAME);
        let opened_back = codec().open(&value, NAME, None, now());
        if value.len() <= limit {
            assert_eq!(opened_back.unwrap().gateway_ref(), gateway_ref);
            opened += 1;
        } else {
            assert_eq!(
                opened_back,
                Err(StateError::Malformed),
                "{} chars",
                value.len()
            );
            refused += 1;
        }
        at_limit |= value.len() == limit;
    }
    assert!(at_limit, "no value of exactly {limit} characters was tried");
    assert!(
        opened > 0 && refused > 0,
        "{opened} opened, {refused} refused"
    );
}

#[test]
fn expired_state_is_rejected() {
    let value = codec().seal(&state(), NAME);
    let at_expiry = now() + Duration::minutes(30);
    assert_eq!(
        codec().open(&value, NAME, None, at_expiry),
        Err(StateError::Expired)
    );
    assert!(
        codec()
            .open(&value, NAME, None, at_expiry - Duration::seconds(1))
            .is_ok()
    );
    // Expiry is ignored only where asked for, and the signature still counts there.
    assert!(codec().open_ignoring_expiry(&value, NAME).is_ok());
}

#[test]
fn state_for_another_gateway_is_rejected() {
    let value = codec().seal(&state(), NAME);
    assert_eq!(
        codec().open(&value, NAME, Some(&GatewayId::IdPay.into()), now()),
        Err(StateError::WrongGateway)
    );
    // Another account at the same gateway is another account all the same.
    let brand = AccountId::named(GatewayId::NovinPal, "brand2").unwrap();
    assert_eq!(
        codec().open(&value, NAME, Some(&brand), now()),
        Err(StateError::WrongGateway)
    );
}

#[test]
fn value_is_bound_to_its_cookie_name() {
    let value = codec().seal(&state(), NAME);
    assert_eq!(
        codec().open(&value, "pay_novinpal_ffffffffffff", None, now()),
        Err(StateError::BadSignature)
    );
}

#[test]
fn rotated_out_key_verifies_while_listed() {
    let old = StateCodec::new(KeyRing::new(key(1, 0x11)));
    let value = old.seal(&state(), NAME);

    let rotated = StateCodec::new(
        KeyRing::new(key(2, 0x33))
            .with_previous(key(1, 0x11))
            .unwrap(),
    );
    assert_eq!(
        rotated.open(&value, NAME, None, now()),
        Ok(state_from(&old, &value))
    );
    // New states are signed with the newest key, which the old codec does not know.
    let fresh = rotated.seal(&state(), NAME);
    assert_eq!(
        old.open(&fresh, NAME, None, now()),
        Err(StateError::UnknownKey)
    );

    let dropped = StateCodec::new(KeyRing::new(key(2, 0x33)));
    assert_eq!(
        dropped.open(&value, NAME, None, now()),
        Err(StateError::UnknownKey)
    );
}

fn state_from(codec: &StateCodec, value: &str) -> OrderState {
    codec.open_ignoring_expiry(value, NAME).unwrap()
}

#[test]
fn short_and_duplicate_keys_are_configuration_errors() {
    assert_eq!(
        SigningKey::new(1, vec![0; 31]).unwrap_err(),
        ConfigError::WeakSigningKey { key_id: 1, len: 31 }
    );
    assert_eq!(
        KeyRing::new(key(1, 1))
            .with_previous(key(1, 2))
            .unwrap_err(),
        ConfigError::DuplicateKeyId(1)
    );
    assert!(SigningKey::from_base64(1, "c2hvcnQ=").is_err());
    let b64 = URL_SAFE_NO_PAD.encode([7u8; 32]);
    assert_eq!(SigningKey::from_base64(3, &b64).unwrap().id(), 3);
    assert!(SigningKey::from_base64(1, "%%%").is_err());
}

#[test]
fn key_never_shows_in_debug() {
    let key = SigningKey::new(9, b"super-secret-signing-key-material!!".to_vec()).unwrap();
    let shown = format!("{key:?} {:?}", KeyRing::new(key.clone()));
    assert!(!shown.contains("super-secret"), "{shown}");
}
