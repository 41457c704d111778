//! The store's writes. On SQLite, writes that arrive together are committed together: a
//! commit costs far more there than a statement (about 125 µs against 25 on the machines
//! measured), and one writer at a time is all SQLite takes anyway. Each caller still
//! hears of its own statement only once the transaction holding it is committed. On
//! PostgreSQL each write is its own statement on the pool.

use std::sync::OnceLock;

use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

/// A value bound to a statement.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

/// What a write answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The number of rows it changed.
    Rows(u64),
    /// For a `… RETURNING token`: whether a row came back.
    Returned(bool),
}

/// One statement, and whether its caller wants the rows it changed or whether it
/// returned a row.
#[derive(Debug)]
pub(crate) struct Write {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
    pub(crate) returning: bool,
}

type Reply = oneshot::Sender<Result<Answer, String>>;

/// The most writes one transaction takes.
const MAX_BATCH: usize = 256;

/// Where the store's writes go.
pub(crate) struct Writer {
    pool: AnyPool,
    sqlite: bool,
    queue: OnceLock<mpsc::UnboundedSender<(Write, Reply)>>,
}

impl Writer {
    pub(crate) fn new(pool: AnyPool, sqlite: bool) -> Writer {
        Writer {
            pool,
            sqlite,
            queue: OnceLock::new(),
        }
    }

    /// Runs `write`, and answers once it is committed.
    pub(crate) async fn run(&self, write: Write) -> Result<Answer, String> {
        if !self.sqlite {
            let mut conn = self.pool.acquire().await.map_err(|e| e.to_string())?;
            return execute(&mut conn, &write).await.map_err(|e| e.to_string());
        }
        // Started on first use, so that it runs on the caller's runtime.
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(commit_together(self.pool.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send((write, reply))
            .map_err(|_| "the store's writer has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the store's writer has stopped".to_owned())?
    }
}

/// SQLite's writer: takes what is queued, runs it in one transaction, commits, answers.
async fn commit_together(pool: AnyPool, mut queue: mpsc::UnboundedReceiver<(Write, Reply)>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                answer_all(batch, &e.to_string());
                continue;
            }
        };
        if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
            answer_all(batch, &e.to_string());
            continue;
        }
        let mut answers = Vec::with_capacity(batch.len());
        for (write, reply) in batch {
            // A failed statement (a duplicate insert, say) is undone alone; the
            // transaction goes on with the others.
            let answer = execute(&mut conn, &write).await.map_err(|e| e.to_string());
            answers.push((reply, answer));
        }
        match sqlx::query("COMMIT").execute(&mut *conn).await {
            Ok(_) => {
                for (reply, answer) in answers {
                    // A caller that gave up waiting no longer needs its answer.
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                let error = format!("the transaction was not committed: {e}");
                for (reply, _) in answers {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

fn answer_all(batch: Vec<(Write, Reply)>, error: &str) {
    for (_, reply) in batch {
        let _ = reply.send(Err(error.to_owned()));
    }
}

async fn execute(conn: &mut sqlx::AnyConnection, write: &Write) -> Result<Answer, sqlx::Error> {
    let mut query = sqlx::query(&write.sql);
    for arg in &write.args {
        query = match arg {
            Arg::Text(text) => query.bind(text.clone()),
            Arg::OptText(text) => query.bind(text.clone()),
            Arg::Int(int) => query.bind(*int),
        };
    }
    if write.returning {
        let row = query.fetch_optional(&mut *conn).await?;
        // Read the column, so that a row of the wrong shape is an error, not a win.
        if let Some(row) = &row {
            row.try_get::<Option<i64>, _>(0)?;
        }
        Ok(Answer::Returned(row.is_some()))
    } else {
        Ok(Answer::Rows(
            query.execute(&mut *conn).await?.rows_affected(),
        ))
    }
}
