//! Write transactions keep their own atomicity when SQLite's group commit puts many of them under one `COMMIT`:
//! a transaction that fails, is dropped or is cancelled leaves nothing, and the others of its batch commit.
//! Runs on PostgreSQL too (`TESSERA_TEST_DATABASE_URL=postgres://…`), where every transaction commits on its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tessera_store::{Db, DbTarget, StoreError, Tx, exec_tx, on_read};

/// A fresh migrated database: a SQLite file in `dir`, or a new schema in the test PostgreSQL database.
async fn fresh_db(dir: &tempfile::TempDir) -> Db {
    let Some(url) = std::env::var("TESSERA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        return Db::connect(&DbTarget::SqliteFile(dir.path().join("t.db"))).await.expect("SQLite file");
    };
    use sqlx::Connection as _;
    use std::str::FromStr as _;
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    // Only digits and the fixed prefix: safe to splice into the statement.
    let schema = format!("gc_{}_{nanos}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
    let options = sqlx::postgres::PgConnectOptions::from_str(&url).expect("TESSERA_TEST_DATABASE_URL");
    let mut admin = sqlx::PgConnection::connect_with(&options).await.expect("connect to the test PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut admin).await.expect("schema");
    admin.close().await.ok();
    let db = Db::open_postgres(options.options([("search_path", schema.as_str())])).await.expect("test pool");
    db.migrate().await.expect("migrations");
    db
}

async fn insert(tx: &mut Tx, key: &str) -> Result<u64, StoreError> {
    Ok(exec_tx!(tx, sqlx::query("INSERT INTO server_meta (key, value) VALUES ($1, 'v')").bind(key))?)
}

async fn keys(db: &Db) -> Vec<String> {
    on_read!(db, |c| sqlx::query_scalar::<_, String>("SELECT key FROM server_meta ORDER BY key").fetch_all(c).await)
        .expect("read keys")
}

/// `(transactions, commits)` of the SQLite writer; `None` on PostgreSQL.
fn stats(db: &Db) -> Option<(u64, u64)> {
    match db {
        Db::Sqlite(pools) => Some(pools.writer.stats()),
        Db::Postgres(_) => None,
    }
}

/// What each of the concurrent transactions does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Plan {
    Commit,
    /// Inserts its key, then a key that exists: the unique violation must reach this transaction.
    Violate,
    /// Inserts its key, then is dropped without commit.
    Drop,
}

#[tokio::test]
async fn one_failing_or_dropped_transaction_of_a_batch_leaves_the_others_committed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = fresh_db(&dir).await;
    let mut tx = db.begin().await.expect("begin");
    insert(&mut tx, "taken").await.expect("insert");
    tx.commit().await.expect("commit");
    let before = stats(&db);

    let plans: Vec<Plan> = (0..24).map(|i| [Plan::Commit, Plan::Violate, Plan::Commit, Plan::Drop][i % 4]).collect();
    // All spawned before any runs (one-thread runtime): the first takes the writer, the rest queue behind it and
    // so share its batch.
    let tasks: Vec<_> = plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let (db, plan) = (db.clone(), *plan);
            tokio::spawn(async move {
                let mut tx = db.begin().await?;
                insert(&mut tx, &format!("k{i:02}")).await?;
                match plan {
                    Plan::Commit => tx.commit().await,
                    Plan::Violate => insert(&mut tx, "taken").await.map(drop),
                    Plan::Drop => {
                        drop(tx);
                        Ok(())
                    }
                }
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        let result = task.await.expect("task");
        match plans[i] {
            Plan::Violate => {
                assert!(result.as_ref().is_err_and(StoreError::is_unique_violation), "k{i:02}: {result:?}")
            }
            _ => assert!(result.is_ok(), "k{i:02}: {result:?}"),
        }
    }

    let mut expected = vec!["taken".to_owned()];
    expected.extend(plans.iter().enumerate().filter(|(_, p)| **p == Plan::Commit).map(|(i, _)| format!("k{i:02}")));
    expected.sort();
    assert_eq!(keys(&db).await, expected, "exactly the committed transactions' rows, each whole");
    if let (Some((t0, c0)), Some((t1, c1))) = (before, stats(&db)) {
        let (transactions, commits) = (t1 - t0, c1 - c0);
        assert_eq!(transactions, 12, "committed transactions");
        assert!(commits < transactions, "{transactions} transactions took {commits} commits: no group commit");
    }
    // The writer goes on.
    let mut tx = db.begin().await.expect("begin");
    insert(&mut tx, "z-after").await.expect("insert");
    tx.commit().await.expect("commit");
    assert!(keys(&db).await.contains(&"z-after".to_owned()));
    db.close().await;
}

#[tokio::test]
async fn a_transaction_cancelled_mid_flight_rolls_back_only_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = fresh_db(&dir).await;
    let (inserted_tx, inserted) = tokio::sync::oneshot::channel();
    let db2 = db.clone();
    let cancelled = tokio::spawn(async move {
        let mut tx = db2.begin().await.expect("begin");
        insert(&mut tx, "cancelled").await.expect("insert");
        inserted_tx.send(()).ok();
        // A request whose client went away: the future is dropped while it holds the transaction.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        tx.commit().await
    });
    let db3 = db.clone();
    let waiting = tokio::spawn(async move {
        let mut tx = db3.begin().await?;
        insert(&mut tx, "kept").await?;
        tx.commit().await
    });
    inserted.await.expect("the cancelled transaction inserted");
    cancelled.abort();
    assert!(cancelled.await.is_err_and(|e| e.is_cancelled()));
    waiting.await.expect("task").expect("the queued transaction commits");
    assert_eq!(keys(&db).await, vec!["kept".to_owned()]);
    db.close().await;
}

#[tokio::test]
async fn a_failed_batch_commit_fails_every_member_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = fresh_db(&dir).await;
    if db.is_postgres() {
        println!("skipped: PostgreSQL commits every transaction on its own");
        return;
    }
    let db1 = db.clone();
    // The first transaction defers its foreign-key check to the outer COMMIT, which therefore fails for the batch.
    let poison = tokio::spawn(async move {
        let mut tx = db1.begin().await?;
        exec_tx!(&mut tx, sqlx::query("PRAGMA defer_foreign_keys = ON"))?;
        exec_tx!(
            &mut tx,
            sqlx::query(
                "INSERT INTO instance_secret_keys (id, instance_id, secret_hash, created_at) \
                 VALUES ('isk_x', 'ins_missing', x'00', 0)"
            )
        )?;
        tx.commit().await
    });
    let others: Vec<_> = (0..5)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut tx = db.begin().await?;
                insert(&mut tx, &format!("k{i}")).await?;
                tx.commit().await
            })
        })
        .collect();
    let poison = poison.await.expect("task");
    assert!(matches!(poison, Err(StoreError::Commit(_))), "{poison:?}");
    for task in others {
        let result = task.await.expect("task");
        assert!(matches!(result, Err(StoreError::Commit(_))), "a member of the failed batch: {result:?}");
    }
    assert!(keys(&db).await.is_empty(), "nothing of the failed batch is visible");
    let mut tx = db.begin().await.expect("begin after the failed batch");
    insert(&mut tx, "after").await.expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(keys(&db).await, vec!["after".to_owned()]);
    db.close().await;
}
