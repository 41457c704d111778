//! In-memory state: transactions, faults, the movable clock, random ids, buyer actions.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::SandboxConfig;
use crate::model::{
    ActError, Action, Call, CallbackInstruction, CallbackMethod, FaultSpec, SandboxGateway,
    Transaction, TxnState,
};

/// Everything mutable, behind one lock.
#[derive(Debug, Default)]
pub(crate) struct Db {
    /// Transactions in creation order.
    pub(crate) txns: Vec<Transaction>,
    /// Index: (gateway, key) → position in `txns`.
    by_key: HashMap<(SandboxGateway, String), usize>,
    /// The order ids each gateway has seen.
    order_ids: HashSet<(SandboxGateway, String)>,
    /// Faults per gateway and call.
    pub(crate) faults: HashMap<(SandboxGateway, Call), FaultSpec>,
    /// Seconds added to the wall clock.
    clock_offset: i64,
}

impl Db {
    /// The transaction with this key.
    pub(crate) fn get_mut(
        &mut self,
        gateway: SandboxGateway,
        key: &str,
    ) -> Option<&mut Transaction> {
        let idx = *self.by_key.get(&(gateway, key.to_owned()))?;
        self.txns.get_mut(idx)
    }

    /// The first transaction of this gateway matching `pred`.
    pub(crate) fn find_mut(
        &mut self,
        gateway: SandboxGateway,
        pred: impl Fn(&Transaction) -> bool,
    ) -> Option<&mut Transaction> {
        self.txns
            .iter_mut()
            .find(|t| t.gateway == gateway && pred(t))
    }

    /// Adds a transaction.
    pub(crate) fn insert(&mut self, txn: Transaction) {
        self.order_ids.insert((txn.gateway, txn.order_id.clone()));
        self.by_key
            .insert((txn.gateway, txn.key.clone()), self.txns.len());
        self.txns.push(txn);
    }

    /// Whether a transaction of `gateway` was created with `order_id` before: CanPay,
    /// NovinPal and GardeshPay require a new order id for every transaction.
    pub(crate) fn order_id_used(&self, gateway: SandboxGateway, order_id: &str) -> bool {
        self.order_ids.contains(&(gateway, order_id.to_owned()))
    }

    /// Whether a key is taken.
    pub(crate) fn has_key(&self, gateway: SandboxGateway, key: &str) -> bool {
        self.by_key.contains_key(&(gateway, key.to_owned()))
    }

    /// Unix seconds on the sandbox clock.
    pub(crate) fn now(&self) -> i64 {
        wall_clock() + self.clock_offset
    }
}

fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The shared state of one sandbox.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) config: SandboxConfig,
    db: Mutex<Db>,
}

impl Store {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        Store {
            config,
            db: Mutex::new(Db::default()),
        }
    }

    /// Locks the state (a poisoned lock is recovered: every write keeps it consistent).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn advance_clock(&self, by: Duration) {
        self.lock().clock_offset += by.as_secs() as i64;
    }

    pub(crate) fn set_fault(&self, gateway: SandboxGateway, call: Call, spec: FaultSpec) {
        self.lock().faults.insert((gateway, call), spec);
    }

    pub(crate) fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Takes one use of the fault for this call, if any.
    pub(crate) fn take_fault(&self, gateway: SandboxGateway, call: Call) -> Option<FaultSpec> {
        let mut db = self.lock();
        let spec = *db.faults.get(&(gateway, call))?;
        if let Some(n) = spec.times {
            if n <= 1 {
                db.faults.remove(&(gateway, call));
            } else if let Some(f) = db.faults.get_mut(&(gateway, call)) {
                f.times = Some(n - 1);
            }
        }
        Some(spec)
    }

    /// The buyer's action on the payment page.
    pub(crate) fn act(
        &self,
        gateway: SandboxGateway,
        key: &str,
        action: Action,
    ) -> Result<CallbackInstruction, ActError> {
        let mut db = self.lock();
        let now = db.now();
        let txn = db.get_mut(gateway, key).ok_or(ActError::UnknownPayment)?;
        if txn.state != TxnState::Created {
            return Err(ActError::AlreadyActed(txn.state));
        }
        txn.returned_at = Some(now);
        txn.buyer_action = Some(action);
        match action {
            Action::Pay => {
                let card = match (&txn.required_card, gateway) {
                    (Some(card), SandboxGateway::NovinPal | SandboxGateway::Zarinpal)
                        if is_card(card) =>
                    {
                        card.clone()
                    }
                    (Some(cards), SandboxGateway::Zibal) => cards
                        .split(',')
                        .find(|c| is_card(c))
                        .map_or_else(random_card, str::to_owned),
                    _ => random_card(),
                };
                txn.card_number = Some(card);
                txn.paid_at = Some(now);
                txn.bank_reference = Some(random_digits(12));
                txn.state = TxnState::Paid;
            }
            Action::Cancel => txn.state = TxnState::Cancelled,
            Action::WrongCard => {
                txn.card_number = Some(random_card());
                txn.state = if gateway == SandboxGateway::NovinPal {
                    TxnState::CardMismatch
                } else {
                    TxnState::Failed
                };
            }
            Action::BankFail => {
                txn.card_number = Some(random_card());
                txn.state = TxnState::Failed;
            }
        }
        if gateway == SandboxGateway::GardeshPay {
            txn.reference = Some(random_digits(12));
        }
        Ok(callback_for(txn, action, now))
    }
}

/// Builds the callback the payment page sends for this transaction's new state.
fn callback_for(txn: &Transaction, action: Action, now: i64) -> CallbackInstruction {
    let paid = txn.state == TxnState::Paid;
    let pairs = |v: &[(&str, String)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    };
    match txn.gateway {
        SandboxGateway::IdPay => {
            let status = crate::idpay::callback_status(txn);
            let card = match (&txn.card_number, action) {
                (Some(card), a) if a != Action::Cancel => mask_idpay(card),
                _ => String::new(),
            };
            post(
                txn,
                pairs(&[
                    ("status", status.to_owned()),
                    ("track_id", txn.reference.clone().unwrap_or_default()),
                    ("id", txn.key.clone()),
                    ("order_id", txn.order_id.clone()),
                    ("amount", txn.amount.to_string()),
                    ("card_no", card),
                    ("date", now.to_string()),
                ]),
            )
        }
        SandboxGateway::NovinPal => {
            let (success, code) = match txn.state {
                TxnState::Paid => ("1", "100"),
                TxnState::Cancelled => ("0", "109"),
                TxnState::CardMismatch => ("0", "123"),
                _ => ("0", "104"),
            };
            get(
                txn,
                pairs(&[
                    ("refId", txn.key.clone()),
                    ("success", success.to_owned()),
                    ("code", code.to_owned()),
                    ("invoiceNumber", txn.order_id.clone()),
                    ("amount", txn.amount.to_string()),
                ]),
            )
        }
        SandboxGateway::Inopal => {
            let reference = txn.reference.clone().unwrap_or_default();
            let fields = if paid {
                pairs(&[
                    ("status", "1".to_owned()),
                    ("order_id", txn.order_id.clone()),
                    ("ref_num", reference),
                    (
                        "card_number",
                        txn.card_number
                            .as_deref()
                            .map(mask_idpay)
                            .unwrap_or_default(),
                    ),
                    (
                        "tracking_code",
                        txn.bank_reference.clone().unwrap_or_default(),
                    ),
                ])
            } else {
                pairs(&[
                    ("status", "-12".to_owned()),
                    ("order_id", txn.order_id.clone()),
                    ("ref_num", reference),
                ])
            };
            post(txn, fields)
        }
        SandboxGateway::CanPay => post(
            txn,
            pairs(&[
                ("success", if paid { "1" } else { "0" }.to_owned()),
                ("token", txn.key.clone()),
                ("amount", txn.amount.to_string()),
                ("invoice_id", txn.order_id.clone()),
            ]),
        ),
        SandboxGateway::GardeshPay => get(
            txn,
            pairs(&[
                ("trackingNumber", txn.reference.clone().unwrap_or_default()),
                ("invoiceNumber", txn.order_id.clone()),
            ]),
        ),
        SandboxGateway::Zarinpal => get(
            txn,
            pairs(&[
                ("Authority", txn.key.clone()),
                ("Status", if paid { "OK" } else { "NOK" }.to_owned()),
            ]),
        ),
        SandboxGateway::Zibal => {
            let mut fields = vec![
                ("success", if paid { "1" } else { "0" }.to_owned()),
                ("trackId", txn.key.clone()),
            ];
            if !txn.order_id.is_empty() {
                fields.push(("orderId", txn.order_id.clone()));
            }
            fields.push(("status", crate::zibal::status_code(txn).to_string()));
            get(txn, pairs(&fields))
        }
    }
}

fn post(txn: &Transaction, fields: Vec<(String, String)>) -> CallbackInstruction {
    CallbackInstruction {
        method: CallbackMethod::Post,
        url: txn.callback_url.clone(),
        fields,
    }
}

fn get(txn: &Transaction, fields: Vec<(String, String)>) -> CallbackInstruction {
    let url = match url::Url::parse(&txn.callback_url) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in &fields {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => txn.callback_url.clone(),
    };
    CallbackInstruction {
        method: CallbackMethod::Get,
        url,
        fields,
    }
}

/// A card number is 16 digits (dashes and spaces ignored).
pub(crate) fn is_card(s: &str) -> bool {
    let digits: String = s.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit())
}

fn card_digits(card: &str) -> String {
    card.chars().filter(char::is_ascii_digit).collect()
}

/// `123456******1234` (IDPay; also used for Inopal, GardeshPay, Zarinpal and Zibal).
pub(crate) fn mask_idpay(card: &str) -> String {
    let d = card_digits(card);
    if d.len() < 10 {
        return d;
    }
    format!("{}******{}", &d[..6], &d[d.len() - 4..])
}

/// `6104-33**-****-6047` (NovinPal, CanPay).
pub(crate) fn mask_dashed(card: &str) -> String {
    let d = card_digits(card);
    if d.len() < 10 {
        return d;
    }
    format!("{}-{}**-****-{}", &d[..4], &d[4..6], &d[d.len() - 4..])
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        // Fall back to the clock; ids only need to be unlikely to collide in a sandbox.
        let mut seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        for b in &mut buf {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
    }
    buf
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            // Rejection sampling keeps the distribution uniform.
            let limit = 256 - (256 % alphabet.len());
            if (b as usize) < limit
                && out.len() < len
                && let Some(&c) = alphabet.get(b as usize % alphabet.len())
            {
                out.push(char::from(c));
            }
        }
    }
    out
}

/// `len` random decimal digits, not starting with 0.
pub(crate) fn random_digits(len: usize) -> String {
    let first = random_from(b"123456789", 1);
    first + &random_from(b"0123456789", len.saturating_sub(1))
}

/// Random lowercase hex.
pub(crate) fn random_hex(len: usize) -> String {
    random_from(b"0123456789abcdef", len)
}

/// Random uppercase letters and digits.
pub(crate) fn random_upper(len: usize) -> String {
    random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", len)
}

/// Random lowercase letters.
pub(crate) fn random_lower(len: usize) -> String {
    random_from(b"abcdefghijklmnopqrstuvwxyz", len)
}

/// Random lowercase letters and digits.
pub(crate) fn random_lower_alnum(len: usize) -> String {
    random_from(b"abcdefghijklmnopqrstuvwxyz0123456789", len)
}

/// Random mixed-case letters and digits.
pub(crate) fn random_alnum(len: usize) -> String {
    random_from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        len,
    )
}

/// A fake 16-digit card number from a real Iranian BIN.
pub(crate) fn random_card() -> String {
    format!("610433{}", random_from(b"0123456789", 10))
}

/// A new blank transaction.
pub(crate) fn new_txn(gateway: SandboxGateway, key: String, now: i64) -> Transaction {
    Transaction {
        gateway,
        key,
        reference: None,
        order_id: String::new(),
        amount: 0,
        payment_amount: 0,
        callback_url: String::new(),
        description: None,
        mobile: None,
        email: None,
        national_code: None,
        currency: None,
        referer: None,
        required_card: None,
        invoice_date: None,
        sandbox_header: false,
        idpay_version: None,
        idpay_answers: Vec::new(),
        state: TxnState::Created,
        buyer_action: None,
        card_number: None,
        bank_reference: None,
        created_at: now,
        returned_at: None,
        paid_at: None,
        verified_at: None,
        reversed_at: None,
        verify_calls: 0,
        successful_verifies: 0,
        repeat_verifies: 0,
        inquiry_calls: 0,
        reverse_calls: 0,
    }
}

/// A key not yet used at this gateway.
pub(crate) fn fresh_key(db: &Db, gateway: SandboxGateway, make: impl Fn() -> String) -> String {
    loop {
        let key = make();
        if !db.has_key(gateway, &key) {
            return key;
        }
    }
}
