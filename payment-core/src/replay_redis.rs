//! A [`ReplayGuard`] in Redis, for several app instances behind one load balancer.
//!
//! Each key is one Redis string: `claim:{token}` while a request verifies (with the lease
//! as its expiry), `done` once fulfilled (kept for the configured time). Claim and release
//! are Lua scripts, so each is one atomic step on the server whatever the number of
//! instances.

use std::{fmt, time::Duration};

use redis::{Script, aio::ConnectionManager};

use crate::{
    random,
    replay::{BoxFuture, Claim, ClaimTicket, GuardError, ReplayGuard},
};

const CLAIM: &str = r"
local current = redis.call('GET', KEYS[1])
if current == 'done' then return 'completed' end
if current then return 'in_progress' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'acquired'
";

const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// A [`ReplayGuard`] shared by every instance that points at the same Redis.
///
/// Enabled by the `redis` feature.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use payment_core::RedisReplayGuard;
/// let guard = RedisReplayGuard::connect("redis://127.0.0.1:6379/").await?;
/// // Payments::builder().replay_guard(guard) …
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisReplayGuard {
    connection: ConnectionManager,
    prefix: String,
    claim: Script,
    release: Script,
}

impl fmt::Debug for RedisReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection carries the URL, which may hold a password.
        f.debug_struct("RedisReplayGuard")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisReplayGuard {
    /// Connects to Redis at `url` (`redis://[:password@]host:port/db`) with a reconnecting
    /// connection, and keys under the prefix `payment:claim:`.
    pub async fn connect(url: &str) -> Result<Self, GuardError> {
        let client = redis::Client::open(url).map_err(|e| guard_error("bad Redis URL", &e))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| guard_error("cannot connect to Redis", &e))?;
        Ok(Self::with_connection(connection))
    }

    /// Uses an existing connection manager.
    pub fn with_connection(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: "payment:claim:".to_owned(),
            claim: Script::new(CLAIM),
            release: Script::new(RELEASE),
        }
    }

    /// Puts every key under `prefix` (to share one Redis between shops).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn redis_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn guard_error(what: &str, error: &redis::RedisError) -> GuardError {
    // `RedisError`'s text names the server, never a password.
    GuardError(format!("{what}: {}", error.kind_str()))
}

trait KindStr {
    fn kind_str(&self) -> String;
}

impl KindStr for redis::RedisError {
    fn kind_str(&self) -> String {
        format!("{:?}", self.kind())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl ReplayGuard for RedisReplayGuard {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, GuardError>> {
        Box::pin(async move {
            let token = random::u64();
            let mut connection = self.connection.clone();
            let answer: String = self
                .claim
                .key(self.redis_key(key))
                .arg(format!("claim:{token}"))
                .arg(millis(lease))
                .invoke_async(&mut connection)
                .await
                .map_err(|e| guard_error("claim failed", &e))?;
            match answer.as_str() {
                "acquired" => Ok(Claim::Acquired(ClaimTicket::new(key, token))),
                "in_progress" => Ok(Claim::InProgress),
                "completed" => Ok(Claim::Completed),
                _ => Err(GuardError("unexpected answer from Redis".into())),
            }
        })
    }

    fn complete<'a>(
        &'a self,
        ticket: &'a ClaimTicket,
        keep_for: Duration,
    ) -> BoxFuture<'a, Result<(), GuardError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::cmd("SET")
                .arg(self.redis_key(ticket.key()))
                .arg("done")
                .arg("PX")
                .arg(millis(keep_for))
                .query_async::<()>(&mut connection)
                .await
                .map_err(|e| guard_error("complete failed", &e))
        })
    }

    fn release<'a>(&'a self, ticket: &'a ClaimTicket) -> BoxFuture<'a, Result<(), GuardError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            self.release
                .key(self.redis_key(ticket.key()))
                .arg(format!("claim:{}", ticket.token()))
                .invoke_async::<i64>(&mut connection)
                .await
                .map(drop)
                .map_err(|e| guard_error("release failed", &e))
        })
    }
}
