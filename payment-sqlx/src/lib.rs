//! # payment-sqlx
//!
//! `payment-core`'s payment ledger ([`PaymentStore`]) in one SQL database, SQLite or
//! PostgreSQL, through sqlx's `Any` driver. The ledger is also the replay guard: a return
//! claims its payment on the payment's own row, so a restart or several app instances on
//! one database never verify and fulfil a payment twice, and the
//! [`Reconciler`](payment_core::Reconciler) finds every payment whose buyer never
//! returned, without Redis. An app without a ledger can use the same store as its
//! [`ReplayGuard`] alone (claims in a table of their own).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use payment_core::*;
//! use payment_sqlx::SqlStore;
//!
//! let store = Arc::new(SqlStore::connect("sqlite://payments.db?mode=rwc").await?);
//! store.migrate().await?;
//! # let keys = KeyRing::new(SigningKey::new(1, vec![7; 32])?);
//! let payments = Payments::builder("https://shop.example", keys)
//!     .gateway(NovinPal::new("api-key"))
//!     .ledger(store)
//!     .fulfil(|receipt: Receipt| async move { Ok::<(), std::io::Error>(()) })
//!     .build()?;
//! Reconciler::new(&payments)?.spawn();
//! # Ok(()) }
//! ```
//!
//! Each transition and each claim of a payment is one conditional `UPDATE` of its row
//! (a claim is taken only when no live claim holds the row), and each claim of the guard
//! alone one `INSERT … ON CONFLICT DO UPDATE … WHERE` that only a lapsed claim lets
//! through, so of several concurrent callers exactly one wins, on either database. A paid
//! return writes twice: the claim with the return, and the paid step that ends it.
//!
//! On SQLite (in WAL mode, [`pool_options`]) the store reads through the pool and writes
//! from a thread of its own, on its own connection to the same file, where the writes
//! that arrive together are committed in one transaction: a commit costs there several
//! statements' time, and a statement handed to sqlx's SQLite connection thread and back
//! costs several times what it costs run in place. Each caller hears of its write only
//! once it is committed.

use std::{
    fmt,
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

use payment_core::{
    AccountId, OrderId, Rial,
    ledger::{PaymentRecord, PaymentStatus, PaymentStore, StoreError},
    replay::{BoxFuture, Claim, ClaimTicket, GuardError, ReplayGuard},
    time::OffsetDateTime,
};
use sqlx::{
    AnyPool, Row,
    any::{AnyPoolOptions, AnyRow},
    sqlite::SqliteConnectOptions,
};

mod writes;

use writes::{Answer, Arg, Lookup, Write, Writer};

/// The tables, created by [`SqlStore::migrate`] if they are missing. Times are Unix
/// microseconds (the ledger) and milliseconds (claim deadlines).
const SCHEMA: [&str; 4] = [
    // `claim_token` and `claim_until` (Unix microseconds) are the claim of the one
    // request verifying the payment now, when the ledger is the replay guard.
    "CREATE TABLE IF NOT EXISTS payment_ledger (
        account TEXT NOT NULL,
        gateway_ref TEXT NOT NULL,
        order_id TEXT NOT NULL,
        amount_rial BIGINT NOT NULL,
        status TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        state_name TEXT NOT NULL,
        verify_reference TEXT,
        claim_token BIGINT,
        claim_until BIGINT,
        PRIMARY KEY (account, gateway_ref)
    )",
    "CREATE INDEX IF NOT EXISTS payment_ledger_open ON payment_ledger (status, updated_at)",
    "CREATE INDEX IF NOT EXISTS payment_ledger_order ON payment_ledger (order_id)",
    "CREATE TABLE IF NOT EXISTS payment_claims (
        claim_key TEXT PRIMARY KEY,
        token BIGINT,
        until_ms BIGINT NOT NULL
    )",
];

const COLUMNS: &str = "account, gateway_ref, order_id, amount_rial, status, created_at, \
                       updated_at, state, state_name, verify_reference";

/// How often lapsed claims are deleted, at most.
const SWEEP_EVERY_MS: i64 = 60_000;

/// The pool settings the store is made for, for `url` (`sqlite:…` or `postgres:…`); use
/// them for an app's own pool when the store shares it ([`SqlStore::from_pool`]).
///
/// SQLite gets one connection and runs in WAL mode with `synchronous = NORMAL`:
/// - one connection, because SQLite takes one writer at a time, and writers on several
///   connections wait on each other's locks in sleeps of milliseconds (the store's own
///   writes have a connection of their own beside it, [`SqlStore::from_pool`]);
/// - WAL with `NORMAL`, because a commit is then durable when the process dies (a
///   `kill -9` loses nothing) without a disk sync per commit; the log is synced at
///   checkpoints, so a power loss can lose the last commits. With sqlx's defaults (a
///   rollback journal, `FULL`) every ledger step waits for the disk, a few hundred a
///   second here.
///
/// Connections wait at most five seconds for the pool, so an unreachable database is an
/// error in seconds.
pub fn pool_options(url: &str) -> AnyPoolOptions {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    AnyPoolOptions::new()
        .max_connections(if sqlite { 1 } else { 8 })
        // A file on this machine needs no ping before each use; a server may have gone.
        .test_before_acquire(!sqlite)
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    sqlx::Executor::execute(&mut *conn, "PRAGMA journal_mode = WAL").await?;
                    sqlx::Executor::execute(&mut *conn, "PRAGMA synchronous = NORMAL").await?;
                }
                Ok(())
            })
        })
}

/// The ledger, which is its own replay guard, in one SQLite or PostgreSQL database.
/// Cheap to share behind an `Arc`; give it to
/// [`PaymentsBuilder::ledger`](payment_core::PaymentsBuilder::ledger), or, for claims
/// without a ledger, to
/// [`PaymentsBuilder::shared_replay_guard`](payment_core::PaymentsBuilder::shared_replay_guard).
pub struct SqlStore {
    pool: AnyPool,
    writer: Writer,
    next_sweep_ms: AtomicI64,
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStore").finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Connects to `url` (`sqlite://payments.db?mode=rwc`, `postgres://user@host/db`).
    /// The error names the database kind, never the URL (it may hold a password).
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        let pool = pool_options(url)
            .connect(url)
            .await
            .map_err(|e| StoreError(format!("could not connect to the database: {e}")))?;
        Ok(SqlStore::from_pool(pool))
    }

    /// Runs one write (on SQLite, committed together with the writes queued beside it).
    async fn write(&self, sql: String, args: Vec<Arg>) -> Result<u64, String> {
        match self
            .writer
            .run(Write {
                sql,
                args,
                returning: false,
                otherwise: None,
            })
            .await?
        {
            Answer::Rows(rows) => Ok(rows),
            other => Err(format!("a write answered {other:?}")),
        }
    }

    /// A store on an app's existing pool (the shop's own database, say). Make the pool
    /// with [`pool_options`], or at least call [`sqlx::any::install_default_drivers`]
    /// first.
    ///
    /// On SQLite the store's writes go to the pool's database file through a connection
    /// of the store's own, so the database must be a file: an in-memory one cannot hold
    /// a ledger (and would not outlive the process anyway), and every write then fails.
    pub fn from_pool(pool: AnyPool) -> SqlStore {
        let url = &pool.connect_options().database_url;
        let writer = if url.scheme() == "sqlite" {
            // sqlx's own reading of the URL, so that both connections open the same file
            // (one it could not read again leaves no file, which every write reports).
            let file = url
                .as_str()
                .parse::<SqliteConnectOptions>()
                .map(|options| options.get_filename().to_owned())
                .unwrap_or_default();
            Writer::sqlite(file)
        } else {
            Writer::pool(pool.clone())
        };
        SqlStore {
            writer,
            pool,
            next_sweep_ms: AtomicI64::new(0),
        }
    }

    /// Creates the store's two tables (`payment_ledger`, `payment_claims`) and their
    /// indexes where they are missing, and deletes lapsed claims. Safe to run at every
    /// start, from every instance.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        for statement in SCHEMA {
            sqlx::query(statement)
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
        }
        // A ledger made before claims lived on its rows gets their columns.
        let has_claims = sqlx::query("SELECT claim_token FROM payment_ledger LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .is_ok();
        if !has_claims {
            for column in ["claim_token", "claim_until"] {
                sqlx::query(&format!(
                    "ALTER TABLE payment_ledger ADD COLUMN {column} BIGINT"
                ))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
            }
        }
        // Through the store's writer, so that a database it cannot write (an in-memory
        // SQLite one) is an error here, at start, rather than at the first payment.
        self.remove_lapsed_claims()
            .await
            .map_err(|e| StoreError(e.0))?;
        Ok(())
    }

    /// The pool, for an app's own queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Deletes the claims whose lease or keep time has passed. Claims run it themselves
    /// at most once a minute.
    pub async fn remove_lapsed_claims(&self) -> Result<u64, GuardError> {
        self.write(
            "DELETE FROM payment_claims WHERE until_ms <= $1".to_owned(),
            vec![Arg::Int(now_ms())],
        )
        .await
        .map_err(GuardError)
    }

    async fn claim_now(&self, key: &str, lease: Duration) -> Result<Claim, GuardError> {
        let now = now_ms();
        if self.next_sweep_ms.load(Ordering::Relaxed) <= now {
            self.next_sweep_ms
                .store(now.saturating_add(SWEEP_EVERY_MS), Ordering::Relaxed);
            if let Err(e) = self.remove_lapsed_claims().await {
                tracing::warn!(error = %e, "could not delete lapsed claims");
            }
        }
        let token = random_token()?;
        // Only a lapsed row (a claim past its lease, a completion past its keep time) is
        // taken over; of concurrent claims of a free key, one inserts and the others
        // meet its row.
        let won = self
            .writer
            .run(Write {
                sql: "INSERT INTO payment_claims (claim_key, token, until_ms) VALUES ($1, $2, $3) \
                      ON CONFLICT (claim_key) DO UPDATE SET token = excluded.token, \
                      until_ms = excluded.until_ms WHERE payment_claims.until_ms <= $4 \
                      RETURNING token"
                    .to_owned(),
                args: vec![
                    Arg::Text(key.to_owned()),
                    Arg::Int(token),
                    Arg::Int(now.saturating_add(millis(lease))),
                    Arg::Int(now),
                ],
                returning: true,
                // Refused: a completion has no token, a live claim has one.
                otherwise: Some(Lookup {
                    sql: "SELECT CASE WHEN token IS NULL THEN 'completed' ELSE 'held' END \
                          FROM payment_claims WHERE claim_key = $1"
                        .to_owned(),
                    args: vec![Arg::Text(key.to_owned())],
                }),
            })
            .await
            .map_err(GuardError)?;
        match won {
            Answer::Returned(true) => {
                Ok(Claim::Acquired(ClaimTicket::new(key, from_db_token(token))))
            }
            Answer::Found(Some(holder)) if holder == "completed" => Ok(Claim::Completed),
            // Held, or deleted in between: someone holds or held it a moment ago.
            Answer::Found(_) => Ok(Claim::InProgress),
            other => Err(GuardError(format!("a claim answered {other:?}"))),
        }
    }
}

impl ReplayGuard for SqlStore {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, GuardError>> {
        Box::pin(self.claim_now(key, lease))
    }

    fn complete<'a>(
        &'a self,
        ticket: &'a ClaimTicket,
        keep_for: Duration,
    ) -> BoxFuture<'a, Result<(), GuardError>> {
        Box::pin(async move {
            // Unconditional, like the in-memory guard: a payment verified under a claim
            // that lapsed meanwhile is still fulfilled, and must read as such.
            self.write(
                "INSERT INTO payment_claims (claim_key, token, until_ms) VALUES ($1, NULL, $2) \
                 ON CONFLICT (claim_key) DO UPDATE SET token = NULL, until_ms = excluded.until_ms"
                    .to_owned(),
                vec![
                    Arg::Text(ticket.key().to_owned()),
                    Arg::Int(now_ms().saturating_add(millis(keep_for))),
                ],
            )
            .await
            .map_err(GuardError)?;
            Ok(())
        })
    }

    fn release<'a>(&'a self, ticket: &'a ClaimTicket) -> BoxFuture<'a, Result<(), GuardError>> {
        Box::pin(async move {
            self.write(
                "DELETE FROM payment_claims WHERE claim_key = $1 AND token = $2".to_owned(),
                vec![
                    Arg::Text(ticket.key().to_owned()),
                    Arg::Int(to_db_token(ticket.token())),
                ],
            )
            .await
            .map_err(GuardError)?;
            Ok(())
        })
    }
}

impl PaymentStore for SqlStore {
    fn insert<'a>(&'a self, record: &'a PaymentRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.write(
                format!(
                    "INSERT INTO payment_ledger ({COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ),
                vec![
                    Arg::Text(record.account.to_string()),
                    Arg::Text(record.gateway_ref.clone()),
                    Arg::Text(record.order_id.as_str().to_owned()),
                    Arg::Int(amount_param(record.amount)?),
                    Arg::Text(record.status.as_str().to_owned()),
                    Arg::Int(micros(record.created_at)),
                    Arg::Int(micros(record.updated_at)),
                    Arg::Text(record.state.clone()),
                    Arg::Text(record.state_name.clone()),
                    Arg::OptText(record.verify_reference.clone()),
                ],
            )
            .await
            .map_err(StoreError)?;
            Ok(())
        })
    }

    fn transition<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        to: PaymentStatus,
        at: OffsetDateTime,
        verify_reference: Option<&'a str>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let from = status_list(to.allowed_from());
            if from.is_empty() {
                return Ok(false);
            }
            // A final status ends any claim on the payment.
            let unclaim = if to.is_final() {
                ", claim_token = NULL, claim_until = NULL"
            } else {
                ""
            };
            // The statuses come from `PaymentStatus`, never from input.
            let moved = self
                .write(
                    format!(
                        "UPDATE payment_ledger SET status = $1, updated_at = $2, \
                         verify_reference = COALESCE($3, verify_reference){unclaim} \
                         WHERE account = $4 AND gateway_ref = $5 AND status IN ({from})"
                    ),
                    vec![
                        Arg::Text(to.as_str().to_owned()),
                        Arg::Int(micros(at)),
                        Arg::OptText(verify_reference.map(str::to_owned)),
                        Arg::Text(account.to_string()),
                        Arg::Text(gateway_ref.to_owned()),
                    ],
                )
                .await
                .map_err(StoreError)?;
            Ok(moved == 1)
        })
    }

    fn checked<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let open = status_list(&PaymentStatus::OPEN);
            let touched = self
                .write(
                    format!(
                        "UPDATE payment_ledger SET updated_at = $1 \
                         WHERE account = $2 AND gateway_ref = $3 AND status IN ({open})"
                    ),
                    vec![
                        Arg::Int(micros(at)),
                        Arg::Text(account.to_string()),
                        Arg::Text(gateway_ref.to_owned()),
                    ],
                )
                .await
                .map_err(StoreError)?;
            Ok(touched == 1)
        })
    }

    fn open_before<'a>(
        &'a self,
        before: OffsetDateTime,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<PaymentRecord>, StoreError>> {
        Box::pin(async move {
            let open = status_list(&PaymentStatus::OPEN);
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM payment_ledger \
                 WHERE status IN ({open}) AND updated_at < $1 \
                 ORDER BY created_at, gateway_ref LIMIT $2"
            ))
            .bind(micros(before))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
            rows.iter().map(record).collect()
        })
    }

    fn for_order<'a>(
        &'a self,
        order_id: &'a OrderId,
    ) -> BoxFuture<'a, Result<Vec<PaymentRecord>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM payment_ledger WHERE order_id = $1 \
                 ORDER BY created_at, gateway_ref"
            ))
            .bind(order_id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
            rows.iter().map(record).collect()
        })
    }

    fn claim_payment<'a>(
        &'a self,
        record: &'a PaymentRecord,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(self.claim_record(record, lease))
    }

    fn release_payment<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        ticket: &'a ClaimTicket,
        to: Option<PaymentStatus>,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let from = to.map(|to| status_list(to.allowed_from()));
            // The statuses come from `PaymentStatus`, never from input.
            let status = match (to, from) {
                (Some(to), Some(from)) if !from.is_empty() => format!(
                    ", status = CASE WHEN status IN ({from}) THEN '{}' ELSE status END",
                    to.as_str()
                ),
                _ => String::new(),
            };
            let released = self
                .write(
                    format!(
                        "UPDATE payment_ledger SET claim_token = NULL, claim_until = NULL, \
                         updated_at = $1{status} \
                         WHERE account = $2 AND gateway_ref = $3 AND claim_token = $4"
                    ),
                    vec![
                        Arg::Int(micros(at)),
                        Arg::Text(account.to_string()),
                        Arg::Text(gateway_ref.to_owned()),
                        Arg::Int(to_db_token(ticket.token())),
                    ],
                )
                .await
                .map_err(StoreError)?;
            Ok(released == 1)
        })
    }
}

impl SqlStore {
    async fn claim_record(
        &self,
        record: &PaymentRecord,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let token = random_token().map_err(|e| StoreError(e.0))?;
        let at = micros(record.updated_at);
        let until = at.saturating_add(i64::try_from(lease.as_micros()).unwrap_or(i64::MAX));
        let ticket = || {
            Claim::Acquired(ClaimTicket::new(
                format!("{}:{}", record.account, record.gateway_ref),
                from_db_token(token),
            ))
        };
        let open = status_list(&PaymentStatus::OPEN);
        // Why a claim changed nothing: the payment's status, if the ledger holds it.
        let status_of = || Lookup {
            sql: "SELECT status FROM payment_ledger WHERE account = $1 AND gateway_ref = $2"
                .to_owned(),
            args: vec![
                Arg::Text(record.account.to_string()),
                Arg::Text(record.gateway_ref.clone()),
            ],
        };
        // One write claims the payment and records the return: only an open payment that
        // no live claim holds is taken, so of concurrent claims one changes the row.
        let claimed = self
            .writer
            .run(Write {
                sql: format!(
                    "UPDATE payment_ledger SET claim_token = $1, claim_until = $2, \
                     updated_at = $3, \
                     status = CASE WHEN $4 = 'returned' AND status = 'started' \
                     THEN 'returned' ELSE status END, \
                     verify_reference = COALESCE($5, verify_reference) \
                     WHERE account = $6 AND gateway_ref = $7 AND status IN ({open}) \
                     AND (claim_until IS NULL OR claim_until <= $3)"
                ),
                args: vec![
                    Arg::Int(token),
                    Arg::Int(until),
                    Arg::Int(at),
                    Arg::Text(record.status.as_str().to_owned()),
                    Arg::OptText(record.verify_reference.clone()),
                    Arg::Text(record.account.to_string()),
                    Arg::Text(record.gateway_ref.clone()),
                ],
                returning: false,
                otherwise: Some(status_of()),
            })
            .await
            .map_err(StoreError)?;
        match claimed {
            Answer::Rows(1) => return Ok(ticket()),
            Answer::Found(Some(status)) => return refused(&status),
            // Not in the ledger: a payment started before the app kept one.
            Answer::Found(None) => {}
            other => return Err(StoreError(format!("a claim answered {other:?}"))),
        }
        let inserted = self
            .writer
            .run(Write {
                sql: format!(
                    "INSERT INTO payment_ledger ({COLUMNS}, claim_token, claim_until) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (account, gateway_ref) DO NOTHING"
                ),
                args: vec![
                    Arg::Text(record.account.to_string()),
                    Arg::Text(record.gateway_ref.clone()),
                    Arg::Text(record.order_id.as_str().to_owned()),
                    Arg::Int(amount_param(record.amount)?),
                    Arg::Text(record.status.as_str().to_owned()),
                    Arg::Int(micros(record.created_at)),
                    Arg::Int(at),
                    Arg::Text(record.state.clone()),
                    Arg::Text(record.state_name.clone()),
                    Arg::OptText(record.verify_reference.clone()),
                    Arg::Int(token),
                    Arg::Int(until),
                ],
                returning: false,
                otherwise: Some(status_of()),
            })
            .await
            .map_err(StoreError)?;
        match inserted {
            Answer::Rows(1) => Ok(ticket()),
            // Inserted by another claim a moment ago, which holds it.
            Answer::Found(Some(status)) => refused(&status),
            Answer::Found(None) => Ok(Claim::InProgress),
            other => Err(StoreError(format!("a claim answered {other:?}"))),
        }
    }
}

/// Why a claim of a payment the ledger holds, now in `status`, was refused.
fn refused(status: &str) -> Result<Claim, StoreError> {
    let status = PaymentStatus::from_name(status)
        .ok_or_else(|| StoreError("a ledger row holds an invalid status".to_owned()))?;
    // Open, and refused: a live claim holds it (or held it a moment ago).
    Ok(if status.is_final() {
        Claim::Completed
    } else {
        Claim::InProgress
    })
}

/// `'started', 'returned'`: a SQL list of status names.
fn status_list(statuses: &[PaymentStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn record(row: &AnyRow) -> Result<PaymentRecord, StoreError> {
    let text = |column: &str| row.try_get::<String, _>(column).map_err(store_error);
    let corrupt = |what: &str| StoreError(format!("a ledger row holds an invalid {what}"));
    let amount = row.try_get::<i64, _>("amount_rial").map_err(store_error)?;
    let status = text("status")?;
    Ok(PaymentRecord {
        account: text("account")?.parse().map_err(|_| corrupt("account"))?,
        order_id: text("order_id")?.parse().map_err(|_| corrupt("order id"))?,
        amount: Rial::new(u64::try_from(amount).map_err(|_| corrupt("amount"))?),
        gateway_ref: text("gateway_ref")?,
        status: PaymentStatus::from_name(&status).ok_or_else(|| corrupt("status"))?,
        created_at: time_of(row.try_get("created_at").map_err(store_error)?)
            .ok_or_else(|| corrupt("time"))?,
        updated_at: time_of(row.try_get("updated_at").map_err(store_error)?)
            .ok_or_else(|| corrupt("time"))?,
        state: text("state")?,
        state_name: text("state_name")?,
        verify_reference: row
            .try_get::<Option<String>, _>("verify_reference")
            .map_err(store_error)?,
    })
}

fn amount_param(amount: Rial) -> Result<i64, StoreError> {
    i64::try_from(amount.get()).map_err(|_| StoreError("amount too large to store".to_owned()))
}

fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

fn time_of(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()
}

fn now_ms() -> i64 {
    micros(OffsetDateTime::now_utc()) / 1_000
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A claim token as the database holds it (a signed 64-bit integer, the same bits).
fn to_db_token(token: u64) -> i64 {
    i64::from_ne_bytes(token.to_ne_bytes())
}

fn from_db_token(token: i64) -> u64 {
    u64::from_ne_bytes(token.to_ne_bytes())
}

fn random_token() -> Result<i64, GuardError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| GuardError(format!("no random source: {e}")))?;
    Ok(i64::from_ne_bytes(bytes))
}

// sqlx's errors name the failing statement's kind, never the connection URL.
fn store_error(e: sqlx::Error) -> StoreError {
    StoreError(e.to_string())
}
