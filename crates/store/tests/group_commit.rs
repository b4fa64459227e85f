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

async fn add_user(db: &Db, n: usize) {
    let mut tx = db.begin().await.expect("begin");
    exec_tx!(
        &mut tx,
        sqlx::query(
            "INSERT INTO users (id, instance_id, first_name, last_name, name_search, public_metadata, \
             private_metadata, unsafe_metadata, password_compromised, banned, failed_verification_attempts, \
             delete_self_enabled, create_organization_enabled, bypass_client_trust, created_at, updated_at) \
             VALUES ($1, 'ins_1', 'Lazy', $2, $3, '{}', '{}', '{}', FALSE, FALSE, 0, TRUE, TRUE, FALSE, 0, 0)"
        )
        .bind(format!("user_{n}"))
        .bind(format!("L{n}"))
        .bind(format!("lazy l{n}"))
    )
    .expect("insert a user");
    tx.commit().await.expect("commit");
}

/// `(users noted for the search index, users in it)`.
async fn search_index(db: &Db) -> (i64, i64) {
    on_read!(db, |c| sqlx::query_as::<_, (i64, i64)>(
        "SELECT (SELECT COUNT(*) FROM user_search_pending), (SELECT COUNT(*) FROM user_search_docs)"
    )
    .fetch_one(c)
    .await)
    .expect("read the search index")
}

/// How many users of `ins_1` a `query` search finds.
async fn searched(db: &Db, query: &str) -> i64 {
    let filter = tessera_store::user_list::UserFilter { query: Some(query.to_owned()), ..Default::default() };
    tessera_store::user_list::count(db, "ins_1", &filter).await.expect("search")
}

/// SQLite's user search index is the writer's deferred work: a commit only notes the users it changed; the index
/// is brought up to date for many of them at once — when a reader asks (a search), a while after the first note
/// (`DEFERRED_AGE`), and at close — never left stale for a search, also of users another process wrote.
#[tokio::test]
async fn the_user_search_index_is_brought_up_to_date_lazily_and_whenever_a_search_needs_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = fresh_db(&dir).await;
    let Db::Sqlite(pools) = &db else { return };
    let mut tx = db.begin().await.expect("begin");
    exec_tx!(
        &mut tx,
        sqlx::query(
            "INSERT INTO instances (id, environment_type, publishable_key, created_at, updated_at) \
             VALUES ('ins_1', 'development', 'pk_test_x', 0, 0)"
        )
    )
    .expect("instance");
    tx.commit().await.expect("commit");
    pools.writer.run_deferred().await.expect("whatever opening left");
    assert_eq!(search_index(&db).await, (0, 0));

    for n in 0..3 {
        add_user(&db, n).await;
    }
    assert_eq!(search_index(&db).await, (3, 0), "committed users are noted, not yet indexed");
    assert_eq!(searched(&db, "lazy").await, 3, "a search finds them: it brings the index up to date first");
    assert_eq!(search_index(&db).await, (0, 3));
    assert_eq!(searched(&db, "l1").await, 1);

    // Another process's users (SQL by hand on the file): noted in the file, unknown to this writer.
    let by_hand = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("t.db"));
    let mut other = sqlx::ConnectOptions::connect(&by_hand).await.expect("a second connection");
    sqlx::query(
        "INSERT INTO users (id, instance_id, name_search, public_metadata, private_metadata, unsafe_metadata, \
         password_compromised, banned, failed_verification_attempts, delete_self_enabled, \
         create_organization_enabled, bypass_client_trust, created_at, updated_at) \
         VALUES ('user_hand', 'ins_1', 'by hand', '{}', '{}', '{}', FALSE, FALSE, 0, TRUE, TRUE, FALSE, 0, 0)",
    )
    .execute(&mut other)
    .await
    .expect("a user written by hand");
    sqlx::Connection::close(other).await.expect("close");
    assert_eq!(searched(&db, "by hand").await, 1, "found too");

    add_user(&db, 3).await;
    tokio::time::sleep(tessera_store::group_commit::DEFERRED_AGE + Duration::from_millis(100)).await;
    add_user(&db, 4).await;
    assert_eq!(search_index(&db).await, (0, 6), "the first commit after DEFERRED_AGE brings it up to date");

    add_user(&db, 5).await;
    assert_eq!(search_index(&db).await, (1, 6));
    db.close().await;
    let db = Db::connect(&DbTarget::SqliteFile(dir.path().join("t.db"))).await.expect("reopen");
    assert_eq!(search_index(&db).await, (0, 7), "closing leaves the index current in the file");
    db.close().await;
}
