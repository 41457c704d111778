//! The store's writes. On PostgreSQL each write is its own statement on the pool.
//!
//! On SQLite they go to one thread of the store's own, which holds a connection of its
//! own to the same file and commits the writes that arrive together in one transaction.
//! SQLite takes one writer at a time anyway, and a commit costs there several statements'
//! time. The thread runs each statement in place from a statement it prepared once, a few
//! microseconds; sqlx's SQLite driver instead hands each statement to its connection's
//! thread and waits for the answer, and those two thread switches cost several times the
//! statement (measured in BENCHMARKS.md). Each caller still hears of its own write only
//! once the transaction holding it is committed.

use std::{
    path::{Path, PathBuf},
    thread,
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

/// A value bound to a statement.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

/// What a write answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The number of rows it changed.
    Rows(u64),
    /// For a `… RETURNING token`: whether a row came back.
    Returned(bool),
    /// It changed nothing, and its [`Write::otherwise`] found this (`None`: no row).
    Found(Option<String>),
}

/// One statement, with `$1`, `$2`… bound to `args` in order, and whether its caller wants
/// the rows it changed or whether it returned a row.
#[derive(Debug)]
pub(crate) struct Write {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
    pub(crate) returning: bool,
    /// A query of one text column, run right after the write when it changed nothing,
    /// to say why (a claim refused: by whom); in the same transaction on SQLite, so a
    /// refused claim costs one trip to the writer.
    pub(crate) otherwise: Option<Lookup>,
}

/// A query whose first row's first column, text, is the answer.
#[derive(Debug)]
pub(crate) struct Lookup {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
}

impl Answer {
    fn changed_nothing(&self) -> bool {
        matches!(self, Answer::Rows(0) | Answer::Returned(false))
    }
}

type Reply = oneshot::Sender<Result<Answer, String>>;

/// The most writes one transaction takes.
const MAX_BATCH: usize = 256;

/// How long a write waits for another connection's lock on the file (the app's own
/// writes through the pool) before it fails; sqlx's pool waits as long.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the store's writes go.
pub(crate) enum Writer {
    /// PostgreSQL: each write on a connection of the pool.
    Pool(AnyPool),
    /// SQLite: the queue of the thread that commits them.
    Sqlite(mpsc::UnboundedSender<(Write, Reply)>),
}

impl Writer {
    /// Writes through `pool`, one statement at a time.
    pub(crate) fn pool(pool: AnyPool) -> Writer {
        Writer::Pool(pool)
    }

    /// Writes to the SQLite database in `file` (which the app's pool has opened, so it
    /// exists) from a thread of its own, which ends when the writer is dropped.
    pub(crate) fn sqlite(file: PathBuf) -> Writer {
        let (sender, queue) = mpsc::unbounded_channel();
        let started = thread::Builder::new()
            .name("payment-sqlx-writer".to_owned())
            .spawn(move || commit_together(&file, queue));
        if let Err(e) = started {
            // The queue is gone with the closure, so every write answers that the
            // writer has stopped.
            tracing::error!(error = %e, "could not start the ledger's SQLite writer");
        }
        Writer::Sqlite(sender)
    }

    /// Runs `write`, and answers once it is committed.
    pub(crate) async fn run(&self, write: Write) -> Result<Answer, String> {
        match self {
            Writer::Pool(pool) => {
                let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
                execute_on_pool(&mut conn, &write)
                    .await
                    .map_err(|e| e.to_string())
            }
            Writer::Sqlite(queue) => {
                let stopped = || "the store's writer has stopped".to_owned();
                let (reply, answer) = oneshot::channel();
                queue.send((write, reply)).map_err(|_| stopped())?;
                answer.await.map_err(|_| stopped())?
            }
        }
    }
}

/// The SQLite writer's thread: takes what is queued, runs it in one transaction,
/// commits, answers; until every sender is gone.
fn commit_together(file: &Path, mut queue: mpsc::UnboundedReceiver<(Write, Reply)>) {
    let mut connection: Option<Connection> = None;
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // Opened on first use, and again after a failure to open.
        if connection.is_none() {
            match open(file) {
                Ok(opened) => connection = Some(opened),
                Err(e) => {
                    answer_all(batch, &e);
                    continue;
                }
            }
        }
        if let Some(connection) = connection.as_mut() {
            commit_batch(connection, batch);
        }
    }
}

fn open(file: &Path) -> Result<Connection, String> {
    // SQLite reads these two names as a new private database, not as this one.
    if file.as_os_str().is_empty() || file == Path::new(":memory:") {
        return Err("the ledger's SQLite database must be a file: \
                    an in-memory database cannot hold a ledger"
            .to_owned());
    }
    // Not created here: the app's pool opened the file already, and a name that
    // does not exist (an in-memory database's) must not become a second, empty one.
    let connection = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| {
        format!(
            "could not open the SQLite database file for the ledger's writes \
             (an in-memory database cannot hold a ledger): {e}"
        )
    })?;
    let configured = (|| {
        connection.busy_timeout(BUSY_TIMEOUT)?;
        // The same settings as the pool's (`pool_options`), and why there.
        connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        // Room for every statement the store writes with.
        connection.set_prepared_statement_cache_capacity(64);
        Ok::<(), rusqlite::Error>(())
    })();
    configured.map_err(|e| format!("could not configure the ledger's SQLite connection: {e}"))?;
    Ok(connection)
}

fn commit_batch(connection: &mut Connection, batch: Vec<(Write, Reply)>) {
    let transaction = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(transaction) => transaction,
        Err(e) => return answer_all(batch, &e.to_string()),
    };
    // A failed statement (a duplicate insert, say) is undone alone; the transaction
    // goes on with the others.
    let answers: Vec<_> = batch
        .into_iter()
        .map(|(write, reply)| {
            let answer = execute(&transaction, &write).map_err(|e| e.to_string());
            (reply, answer)
        })
        .collect();
    match transaction.commit() {
        Ok(()) => {
            for (reply, answer) in answers {
                // A caller that gave up waiting no longer needs its answer.
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            // Dropped with the failed commit, the transaction is rolled back.
            let error = format!("the transaction was not committed: {e}");
            for (reply, _) in answers {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

fn answer_all(batch: Vec<(Write, Reply)>, error: &str) {
    for (_, reply) in batch {
        let _ = reply.send(Err(error.to_owned()));
    }
}

fn execute(connection: &Connection, write: &Write) -> rusqlite::Result<Answer> {
    let mut statement = connection.prepare_cached(&write.sql)?;
    bind(&mut statement, &write.args)?;
    let answer = if write.returning {
        let mut rows = statement.raw_query();
        // Read the column, so that a row of the wrong shape is an error, not a win.
        match rows.next()? {
            Some(row) => {
                row.get::<_, Option<i64>>(0)?;
                Answer::Returned(true)
            }
            None => Answer::Returned(false),
        }
    } else {
        let changed = statement.raw_execute()?;
        Answer::Rows(u64::try_from(changed).unwrap_or(u64::MAX))
    };
    match &write.otherwise {
        Some(lookup) if answer.changed_nothing() => {
            let mut statement = connection.prepare_cached(&lookup.sql)?;
            bind(&mut statement, &lookup.args)?;
            let mut rows = statement.raw_query();
            let found = match rows.next()? {
                Some(row) => Some(row.get::<_, String>(0)?),
                None => None,
            };
            Ok(Answer::Found(found))
        }
        _ => Ok(answer),
    }
}

fn bind(statement: &mut rusqlite::CachedStatement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for (position, arg) in args.iter().enumerate() {
        let name = format!("${}", position + 1);
        let index = statement
            .parameter_index(&name)?
            .ok_or(rusqlite::Error::InvalidParameterName(name))?;
        match arg {
            Arg::Text(text) => statement.raw_bind_parameter(index, text)?,
            Arg::OptText(text) => statement.raw_bind_parameter(index, text)?,
            Arg::Int(int) => statement.raw_bind_parameter(index, int)?,
        }
    }
    Ok(())
}

async fn execute_on_pool(
    conn: &mut sqlx::AnyConnection,
    write: &Write,
) -> Result<Answer, sqlx::Error> {
    let query = bound(&write.sql, &write.args);
    let answer = if write.returning {
        let row = query.fetch_optional(&mut *conn).await?;
        // Read the column, so that a row of the wrong shape is an error, not a win.
        if let Some(row) = &row {
            sqlx::Row::try_get::<Option<i64>, _>(row, 0)?;
        }
        Answer::Returned(row.is_some())
    } else {
        Answer::Rows(query.execute(&mut *conn).await?.rows_affected())
    };
    match &write.otherwise {
        Some(lookup) if answer.changed_nothing() => {
            let row = bound(&lookup.sql, &lookup.args)
                .fetch_optional(&mut *conn)
                .await?;
            let found = match &row {
                Some(row) => Some(sqlx::Row::try_get::<String, _>(row, 0)?),
                None => None,
            };
            Ok(Answer::Found(found))
        }
        _ => Ok(answer),
    }
}

fn bound<'q>(
    sql: &'q str,
    args: &[Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match arg {
            Arg::Text(text) => query.bind(text.clone()),
            Arg::OptText(text) => query.bind(text.clone()),
            Arg::Int(int) => query.bind(*int),
        };
    }
    query
}
