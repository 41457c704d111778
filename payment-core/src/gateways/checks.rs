//! The documented limits several adapters check the same way.

use serde_json::Value;

use crate::{GatewayId, Order, error::InvalidOrder, error::OrderProblem};

/// An order that breaks `gateway`'s rule for one of its fields.
pub(super) fn invalid(gateway: GatewayId, reason: OrderProblem) -> crate::Error {
    InvalidOrder { gateway, reason }.into()
}

/// A JSON request body: `fields`, and each of `optional` that the order has.
pub(super) fn json_body(mut fields: Value, optional: &[(&str, Option<&str>)]) -> Value {
    if let Value::Object(map) = &mut fields {
        for (name, value) in optional {
            if let Some(value) = value {
                map.insert((*name).to_owned(), (*value).into());
            }
        }
    }
    fields
}

/// Checks `order`'s amount against an inclusive `[min, max]` range in rial.
pub(super) fn check_amount(
    gateway: GatewayId,
    order: &Order,
    min: u64,
    max: Option<u64>,
) -> Result<(), InvalidOrder> {
    let amount = order.amount().get();
    let reason = if amount < min {
        OrderProblem::AmountTooLow { amount, min }
    } else if let Some(max) = max.filter(|max| amount > *max) {
        OrderProblem::AmountTooHigh { amount, max }
    } else {
        return Ok(());
    };
    Err(InvalidOrder { gateway, reason })
}

/// Checks the order id's length against a gateway's maximum.
pub(super) fn check_order_id_len(
    gateway: GatewayId,
    order: &Order,
    max: usize,
) -> Result<(), InvalidOrder> {
    let len = order.id().as_str().len();
    if len > max {
        return Err(InvalidOrder {
            gateway,
            reason: OrderProblem::OrderIdTooLong { len, max },
        });
    }
    Ok(())
}
