-- Refunds of paid orders (NovinPal and Zarinpal reverse): one per order, at most.
CREATE TABLE IF NOT EXISTS refunds (
    order_id     TEXT PRIMARY KEY REFERENCES orders (id),
    refunded_at  BIGINT NOT NULL
);
