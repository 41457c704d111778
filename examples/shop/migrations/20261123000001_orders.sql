-- Orders and shop settings. Portable SQL: runs on SQLite and PostgreSQL alike.
-- Times are unix milliseconds (UTC); amounts are whole rial.

CREATE TABLE orders (
    id             TEXT PRIMARY KEY,
    product        TEXT NOT NULL,
    amount_rial    BIGINT NOT NULL CHECK (amount_rial > 0),
    gateway        TEXT NOT NULL,
    status         TEXT NOT NULL
                   CHECK (status IN ('created', 'awaiting_payment', 'paid', 'failed', 'pending')),
    -- The gateway's reference from create. Unique: one payment can settle one order only,
    -- whatever any code above the database does.
    gateway_ref    TEXT UNIQUE,
    bank_reference TEXT,
    card_mask      TEXT,
    -- A payment whose verify did not finish (payment_core::PendingPayment as JSON), kept
    -- so that it can be verified again later, also after a restart.
    pending_json   TEXT,
    failure_reason TEXT,
    paid_at        BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE INDEX orders_by_created_at ON orders (created_at);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
