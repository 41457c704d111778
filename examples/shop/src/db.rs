//! The orders table and its state machine, on SQLite or PostgreSQL through `sqlx`'s
//! `Any` driver.
//!
//! An order moves `created → awaiting_payment → paid | failed | pending`, and a pending
//! order on to `paid | failed`. Every transition is one conditional `UPDATE … WHERE id = …
//! AND status IN (…)`, so it happens at most once however many requests race for it.
//! "Paid" is only ever set from a [`Receipt`] — a value that exists only for a payment the
//! gateway verified — and only on the order with the receipt's id, gateway, reference and
//! amount. The gateway reference is `UNIQUE`, so one receipt can never settle two orders.

use std::{fmt, str::FromStr};

use payment_axum::payment_core::{GatewayId, PendingPayment, Receipt, Rial};
use sqlx::{AnyPool, Row, any::AnyRow};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Saved, payment not started yet (or the gateway could not be reached).
    Created,
    /// Sent to the gateway; waiting for the buyer to come back.
    AwaitingPayment,
    /// A verified receipt settled it. Final.
    Paid,
    /// Cancelled by the buyer, declined, or refused by the gateway. Final.
    Failed,
    /// The buyer came back but verify did not finish; it can be checked again.
    Pending,
}

impl Status {
    /// The value stored in the `status` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::AwaitingPayment => "awaiting_payment",
            Status::Paid => "paid",
            Status::Failed => "failed",
            Status::Pending => "pending",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = DbError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "created" => Status::Created,
            "awaiting_payment" => Status::AwaitingPayment,
            "paid" => Status::Paid,
            "failed" => Status::Failed,
            "pending" => Status::Pending,
            other => return Err(DbError::Corrupt(format!("unknown status {other:?}"))),
        })
    }
}

/// What can go wrong in the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database at `DATABASE_URL` could not be opened.
    #[error("cannot open the database {target} (DATABASE_URL): {reason}")]
    Connect {
        /// The URL without its password.
        target: String,
        /// What went wrong, with a hint where there is one.
        reason: String,
    },
    /// The database refused or could not be reached.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another order already holds this gateway reference.
    #[error("gateway reference {0:?} already belongs to another order")]
    DuplicateReference(String),
    /// A row holds a value this code does not understand.
    #[error("unexpected data in the orders table: {0}")]
    Corrupt(String),
}

/// How long opening the database may take before the shop gives up.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `url` with its password, if any, replaced by `***`: what may be printed or logged.
pub fn without_password(url: &str) -> String {
    match payment_axum::payment_core::url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// One row of the `orders` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// The shop's order id (letters and digits).
    pub id: String,
    /// The product's slug.
    pub product: String,
    /// The buyer session that placed it (none for orders older than sessions).
    pub buyer: Option<String>,
    /// The amount, decided by the shop.
    pub amount: Rial,
    /// The gateway the buyer chose.
    pub gateway: GatewayId,
    /// Where the order stands.
    pub status: Status,
    /// The gateway's reference from create, once the payment started.
    pub gateway_ref: Option<String>,
    /// The bank's reference, once paid.
    pub bank_reference: Option<String>,
    /// The masked card, once paid (where the gateway reports it).
    pub card_mask: Option<String>,
    /// The pending payment, as JSON, while the order is pending.
    pub pending_json: Option<String>,
    /// Why the order failed, for the buyer (Persian / English).
    pub failure_reason: Option<String>,
    /// When the payment was verified (unix milliseconds).
    pub paid_at: Option<i64>,
    /// When the order was created (unix milliseconds).
    pub created_at: i64,
    /// When the order last changed (unix milliseconds).
    pub updated_at: i64,
}

impl OrderRow {
    fn from_row(row: &AnyRow) -> Result<Self, DbError> {
        let gateway: String = row.try_get("gateway")?;
        let status: String = row.try_get("status")?;
        let amount: i64 = row.try_get("amount_rial")?;
        Ok(OrderRow {
            id: row.try_get("id")?,
            product: row.try_get("product")?,
            buyer: row.try_get("buyer")?,
            amount: Rial::new(
                u64::try_from(amount)
                    .map_err(|_| DbError::Corrupt(format!("negative amount {amount}")))?,
            ),
            gateway: gateway
                .parse()
                .map_err(|_| DbError::Corrupt(format!("unknown gateway {gateway:?}")))?,
            status: status.parse()?,
            gateway_ref: row.try_get("gateway_ref")?,
            bank_reference: row.try_get("bank_reference")?,
            card_mask: row.try_get("card_mask")?,
            pending_json: row.try_get("pending_json")?,
            failure_reason: row.try_get("failure_reason")?,
            paid_at: row.try_get("paid_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// The stored pending payment, if the order is pending and it parses.
    pub fn pending_payment(&self) -> Option<PendingPayment> {
        self.pending_json
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
    }
}

/// What [`Db::mark_paid`] did with a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaidResult {
    /// The order was awaiting payment (or pending) and is now paid.
    NowPaid,
    /// The order was paid by this same payment before (a repeated callback or retry).
    AlreadyPaid,
    /// No order matches the receipt's id, gateway, reference and amount in a payable state.
    /// The money moved but no order takes it: log it loudly and have someone look.
    NoMatchingOrder,
}

const COLUMNS: &str = "id, product, buyer, amount_rial, gateway, status, gateway_ref, bank_reference, \
                       card_mask, pending_json, failure_reason, paid_at, created_at, updated_at";

/// The shop's database: orders and settings.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
}

/// Now, in unix milliseconds (fine enough to list orders in the order they came).
fn now() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

fn amount_param(amount: Rial) -> Result<i64, DbError> {
    i64::try_from(amount.get()).map_err(|_| DbError::Corrupt("amount too large".to_owned()))
}

impl Db {
    /// Connects to `url` (`sqlite://shop.db?mode=rwc`, `postgres://…`) and applies the
    /// migrations in `examples/shop/migrations`, creating the tables on first start.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        let target = without_password(url);
        let refused = |reason: String| DbError::Connect {
            target: target.clone(),
            reason,
        };
        if !url.starts_with("sqlite:") && !url.starts_with("postgres") {
            return Err(refused(
                "it must start with sqlite:// (e.g. sqlite://shop.db?mode=rwc) or postgres://"
                    .to_owned(),
            ));
        }
        // The payment ledger shares this pool: its settings are the store's. One
        // connection first, so a refusal reads as itself, not as a pool that timed out.
        let options = payment_sqlx::pool_options(url);
        match tokio::time::timeout(
            CONNECT_TIMEOUT,
            <sqlx::AnyConnection as sqlx::Connection>::connect(url),
        )
        .await
        {
            Err(_) => {
                return Err(refused(format!(
                    "no answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => {
                let hint = if url.starts_with("sqlite:") && !url.contains("mode=rwc") {
                    " (to create a new SQLite file, end the URL with ?mode=rwc)"
                } else {
                    ""
                };
                return Err(refused(format!("{e}{hint}")));
            }
            Ok(Ok(connection)) => {
                let _ = sqlx::Connection::close(connection).await;
            }
        }
        let pool = options.connect(url).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Db { pool })
    }

    /// The connection pool, for maintenance queries and tests.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection (tests reopen the same file as a "restarted" shop).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Saves a new order of `buyer` in `created`.
    pub async fn create_order(
        &self,
        id: &str,
        buyer: &str,
        product: &str,
        amount: Rial,
        gateway: GatewayId,
    ) -> Result<OrderRow, DbError> {
        let now = now();
        sqlx::query(
            "INSERT INTO orders (id, buyer, product, amount_rial, gateway, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'created', $6, $6)",
        )
        .bind(id)
        .bind(buyer)
        .bind(product)
        .bind(amount_param(amount)?)
        .bind(gateway.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.order(id)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("order {id} vanished after insert")))
    }

    /// One order.
    pub async fn order(&self, id: &str) -> Result<Option<OrderRow>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM orders WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(OrderRow::from_row).transpose()
    }

    /// Every order, newest first.
    pub async fn orders(&self) -> Result<Vec<OrderRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM orders ORDER BY created_at DESC, id DESC"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(OrderRow::from_row).collect()
    }

    /// The orders of one buyer session, newest first.
    pub async fn orders_of(&self, buyer: &str) -> Result<Vec<OrderRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM orders WHERE buyer = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(buyer)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(OrderRow::from_row).collect()
    }

    /// `created → awaiting_payment`, recording the gateway's reference. `Ok(false)` if the
    /// order was not in `created`; [`DbError::DuplicateReference`] if another order holds
    /// the reference already.
    pub async fn mark_awaiting(&self, id: &str, gateway_ref: &str) -> Result<bool, DbError> {
        let result = sqlx::query(
            "UPDATE orders SET status = 'awaiting_payment', gateway_ref = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'created'",
        )
        .bind(gateway_ref)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await;
        match result {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(e) if is_unique_violation(&e) => {
                Err(DbError::DuplicateReference(gateway_ref.to_owned()))
            }
            Err(e) => {
                // Some drivers report the constraint in ways `is_unique_violation` misses:
                // look for the holder before giving up.
                if self.order_by_ref(gateway_ref).await?.is_some() {
                    Err(DbError::DuplicateReference(gateway_ref.to_owned()))
                } else {
                    Err(e.into())
                }
            }
        }
    }

    /// The order holding a gateway reference.
    pub async fn order_by_ref(&self, gateway_ref: &str) -> Result<Option<OrderRow>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM orders WHERE gateway_ref = $1"
        ))
        .bind(gateway_ref)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(OrderRow::from_row).transpose()
    }

    /// `awaiting_payment | pending → paid`, from a verified receipt only, and only for the
    /// order with the receipt's id, gateway, reference and amount.
    pub async fn mark_paid(&self, receipt: &Receipt) -> Result<PaidResult, DbError> {
        let now = now();
        let done = sqlx::query(
            "UPDATE orders SET status = 'paid', bank_reference = $1, card_mask = $2, \
             paid_at = $3, updated_at = $3, pending_json = NULL, failure_reason = NULL \
             WHERE id = $4 AND gateway = $5 AND gateway_ref = $6 AND amount_rial = $7 \
             AND status IN ('awaiting_payment', 'pending')",
        )
        .bind(receipt.bank_reference())
        .bind(receipt.card_mask())
        .bind(now)
        .bind(receipt.order_id().as_str())
        .bind(receipt.gateway().as_str())
        .bind(receipt.gateway_ref())
        .bind(amount_param(receipt.amount())?)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(PaidResult::NowPaid);
        }
        let holder = self.order_by_ref(receipt.gateway_ref()).await?;
        Ok(match holder {
            Some(order)
                if order.status == Status::Paid
                    && order.id == receipt.order_id().as_str()
                    && order.gateway == receipt.gateway() =>
            {
                PaidResult::AlreadyPaid
            }
            _ => PaidResult::NoMatchingOrder,
        })
    }

    /// `created | awaiting_payment | pending → failed`, with the reason shown to the buyer.
    /// `Ok(false)` if the order was already final.
    pub async fn mark_failed(&self, id: &str, reason: &str) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE orders SET status = 'failed', failure_reason = $1, pending_json = NULL, \
             updated_at = $2 WHERE id = $3 \
             AND status IN ('created', 'awaiting_payment', 'pending')",
        )
        .bind(reason)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `awaiting_payment → pending`, keeping the pending payment so it can be verified
    /// again (also after a restart). `Ok(false)` if the order was not awaiting payment.
    pub async fn mark_pending(&self, pending: &PendingPayment) -> Result<bool, DbError> {
        let json = serde_json::to_string(pending)
            .map_err(|e| DbError::Corrupt(format!("pending payment as JSON: {e}")))?;
        let done = sqlx::query(
            "UPDATE orders SET status = 'pending', pending_json = $1, updated_at = $2 \
             WHERE id = $3 AND gateway = $4 AND amount_rial = $5 AND status = 'awaiting_payment'",
        )
        .bind(json)
        .bind(now())
        .bind(pending.order_id.as_str())
        .bind(pending.account.gateway().as_str())
        .bind(amount_param(pending.amount)?)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A setting, if set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    /// Records that the paid order `id` was refunded at the gateway; `false` if it was
    /// recorded before.
    pub async fn record_refund(&self, id: &str) -> Result<bool, DbError> {
        let done = sqlx::query(
            "INSERT INTO refunds (order_id, refunded_at) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING",
        )
        .bind(id)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// When the order `id` was refunded (Unix milliseconds), if it was.
    pub async fn refunded_at(&self, id: &str) -> Result<Option<i64>, DbError> {
        let row = sqlx::query("SELECT refunded_at FROM refunds WHERE order_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<i64, _>("refunded_at")))
    }

    /// The setting `key`, storing `value` first if it has none; the value in force is
    /// returned (two processes racing agree on the first one stored).
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, DbError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        self.setting(key)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("setting {key} vanished after insert")))
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.is_unique_violation() || d.message().to_ascii_lowercase().contains("unique")
    })
}
