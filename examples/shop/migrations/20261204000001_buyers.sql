-- Each order belongs to the buyer session that placed it; a buyer sees only their own.
-- Orders placed before sessions existed have none and are seen by the admin only.

ALTER TABLE orders ADD COLUMN buyer TEXT;

CREATE INDEX orders_by_buyer ON orders (buyer, created_at);
