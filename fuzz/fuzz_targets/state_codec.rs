//! The signed state codec: opening arbitrary strings never panics and never succeeds
//! for a value the codec would not produce itself; a sealed state opens to itself, and
//! any change to it (a character replaced, inserted or removed, the value cut or
//! extended, another cookie name, another key) is refused.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use payment_core::{
    AccountId, GatewayId, KeyRing, OrderId, Rial, SigningKey, fuzzing,
    state::{MAX_STATE_LEN, NONCE_LEN, StateCodec},
    time::OffsetDateTime,
};

const NAME: &str = "pay_novinpal_0a1b2c3d4e5f";

#[derive(Arbitrary, Debug)]
enum Input {
    Open { value: String, other_name: bool },
    Seal { state: Spec, change: Change },
}

#[derive(Arbitrary, Debug)]
struct Spec {
    gateway: u8,
    order_id: String,
    amount: u64,
    gateway_ref: String,
    nonce: [u8; NONCE_LEN],
    issued_at: i64,
    expires_at: i64,
}

#[derive(Arbitrary, Debug)]
enum Change {
    Replace { at: u16, with: char },
    Insert { at: u16, ch: char },
    Remove { at: u16 },
    Truncate { to: u16 },
    Extend { tail: String },
    Name { name: String },
    Key { id: u8, byte: u8 },
}

fn codec() -> StateCodec {
    StateCodec::new(
        KeyRing::new(SigningKey::new(2, vec![0x5a; 32]).unwrap())
            .with_previous(SigningKey::new(1, vec![0xa5; 32]).unwrap())
            .unwrap(),
    )
}

fn at(value: &str, at: u16) -> usize {
    let mut i = usize::from(at) % (value.len() + 1);
    while !value.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fuzz_target!(|input: Input| {
    let codec = codec();
    match input {
        Input::Open { value, other_name } => {
            let name = if other_name { "" } else { NAME };
            if let Ok(state) = codec.open_ignoring_expiry(&value, name) {
                // Only the codec's own output opens, and it re-encodes to itself.
                assert_eq!(codec.seal(&state, name), value);
            }
            let now = OffsetDateTime::UNIX_EPOCH;
            let _ = codec.open(&value, name, Some(&AccountId::from(GatewayId::NovinPal)), now);
        }
        Input::Seal {
            state: spec,
            change,
        } => {
            let gateway = GatewayId::ALL[usize::from(spec.gateway) % GatewayId::ALL.len()];
            let Ok(order_id) = OrderId::new(spec.order_id) else {
                return;
            };
            let state = fuzzing::state(
                gateway,
                order_id,
                Rial::new(spec.amount),
                spec.gateway_ref,
                spec.nonce,
                spec.issued_at,
                spec.expires_at,
            );
            let sealed = codec.seal(&state, NAME);
            if sealed.len() > MAX_STATE_LEN {
                // Too long to be accepted back; refused, never misread.
                assert!(codec.open_ignoring_expiry(&sealed, NAME).is_err());
                return;
            }
            assert_eq!(codec.open_ignoring_expiry(&sealed, NAME), Ok(state.clone()));
            let (value, name, other_codec) = match change {
                Change::Replace { at: i, with } => {
                    let i = at(&sealed, i);
                    let mut v = sealed.clone();
                    if let Some(old) = v[i..].chars().next() {
                        v.replace_range(i..i + old.len_utf8(), &with.to_string());
                    }
                    (v, NAME.to_owned(), None)
                }
                Change::Insert { at: i, ch } => {
                    let mut v = sealed.clone();
                    v.insert(at(&sealed, i), ch);
                    (v, NAME.to_owned(), None)
                }
                Change::Remove { at: i } => {
                    let mut v = sealed.clone();
                    let i = at(&sealed, i);
                    if i < v.len() {
                        v.remove(i);
                    }
                    (v, NAME.to_owned(), None)
                }
                Change::Truncate { to } => {
                    let mut v = sealed.clone();
                    v.truncate(at(&sealed, to));
                    (v, NAME.to_owned(), None)
                }
                Change::Extend { tail } => (format!("{sealed}{tail}"), NAME.to_owned(), None),
                Change::Name { name } => (sealed.clone(), name, None),
                Change::Key { id, byte } => {
                    if (id, byte) == (2, 0x5a) {
                        return; // the same key
                    }
                    let key = SigningKey::new(id, vec![byte; 32]).unwrap();
                    (
                        sealed.clone(),
                        NAME.to_owned(),
                        Some(StateCodec::new(KeyRing::new(key))),
                    )
                }
            };
            let opener = other_codec.as_ref().unwrap_or(&codec);
            let unchanged = value == sealed && name == NAME && other_codec.is_none();
            match opener.open_ignoring_expiry(&value, &name) {
                Ok(opened) => {
                    assert!(unchanged, "a changed value opened: {value:?} as {opened:?}");
                    assert_eq!(opened, state);
                }
                Err(_) => assert!(!unchanged, "the unchanged value was refused"),
            }
        }
    }
});
