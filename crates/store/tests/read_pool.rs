//! The read pool hands connections out and takes them back without a round trip: a read abandoned midway leaves
//! its connection usable and up to date, the pool never opens more than its size, and a connection that failed
//! at the connection level is retired (PostgreSQL: `TESSERA_TEST_DATABASE_URL=postgres://…`).

use std::time::Duration;

use futures_util::TryStreamExt as _;
use sqlx::Sqlite;
use sqlx::sqlite::SqliteConnectOptions;
use tessera_store::read_pool::ReadPool;
use tessera_store::{Db, DbTarget, Tx, exec_tx, on_read};

async fn insert(db: &Db, key: &str) {
    let mut tx: Tx = db.begin().await.expect("begin");
    exec_tx!(&mut tx, sqlx::query("INSERT INTO server_meta (key, value) VALUES ($1, 'v')").bind(key)).expect("insert");
    tx.commit().await.expect("commit");
}

const KEYS: &str = "SELECT key FROM server_meta WHERE key LIKE 'rp-%' ORDER BY key";

/// A SQLite file database and a one-connection read pool on the same file.
async fn sqlite_with_one_reader(dir: &tempfile::TempDir) -> (Db, ReadPool<Sqlite>) {
    let path = dir.path().join("t.db");
    let db = Db::connect(&DbTarget::SqliteFile(path.clone())).await.expect("SQLite file");
    let options = SqliteConnectOptions::new().filename(&path).read_only(true);
    let pool = ReadPool::<Sqlite>::connect(options, 1, Duration::from_secs(5)).await.expect("read pool");
    (db, pool)
}

#[tokio::test]
async fn a_read_abandoned_midway_leaves_its_connection_usable_and_current() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, pool) = sqlite_with_one_reader(&dir).await;
    for key in ["rp-1", "rp-2", "rp-3"] {
        insert(&db, key).await;
    }
    {
        let mut rows = sqlx::query_scalar::<_, String>(KEYS).fetch(&pool);
        assert_eq!(rows.try_next().await.expect("first row").as_deref(), Some("rp-1"));
        // Dropped with rows unread: the statement (and its snapshot) must not outlive it.
    }
    insert(&db, "rp-4").await;
    let keys: Vec<String> = sqlx::query_scalar(KEYS).fetch_all(&pool).await.expect("read again");
    assert_eq!(
        keys,
        ["rp-1", "rp-2", "rp-3", "rp-4"],
        "the next read sees the write committed after the abandoned one"
    );
    assert_eq!(pool.size(), 1, "the connection was taken back, not replaced");

    // A read cancelled while it waits for its connection's answer leaves the connection usable too.
    let cancelled = tokio::time::timeout(
        Duration::from_nanos(1),
        sqlx::query_scalar::<_, i64>(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) SELECT SUM(i) FROM n",
        )
        .fetch_one(&pool),
    )
    .await;
    drop(cancelled);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM server_meta WHERE key LIKE 'rp-%'")
        .fetch_one(&pool)
        .await
        .expect("read after a cancelled one");
    assert_eq!(n, 4);
}

#[tokio::test]
async fn concurrent_reads_share_at_most_the_pool_size() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::connect(&DbTarget::SqliteFile(dir.path().join("t.db"))).await.expect("SQLite file");
    insert(&db, "rp-1").await;
    let Db::Sqlite(pools) = &db else { unreachable!("a SQLite file") };
    let reads = (0..40)
        .map(|_| async { on_read!(&db, |c| sqlx::query_scalar::<_, String>(KEYS).fetch_all(c).await).expect("read") });
    for keys in futures_util::future::join_all(reads).await {
        assert_eq!(keys, ["rp-1"]);
    }
    assert!((1..=8).contains(&pools.read.size()), "open read connections: {}", pools.read.size());
    assert_eq!(pools.read.num_idle() as u32, pools.read.size(), "every connection came back");
}

#[tokio::test]
async fn a_connection_lost_by_the_server_is_retired() {
    let Some(url) = std::env::var("TESSERA_TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) else {
        return; // SQLite connections are local files: nothing can drop them.
    };
    use sqlx::Connection as _;
    use std::str::FromStr as _;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    // Only digits and the fixed prefix: safe to splice into the statement.
    let schema = format!("rp_{}_{nanos}", std::process::id());
    let options = sqlx::postgres::PgConnectOptions::from_str(&url).expect("TESSERA_TEST_DATABASE_URL");
    let mut admin = sqlx::PgConnection::connect_with(&options).await.expect("connect to the test PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&mut admin).await.expect("schema");
    admin.close().await.ok();
    let db = Db::open_postgres(options.options([("search_path", schema.as_str())])).await.expect("test pool");
    let Db::Postgres(pools) = &db else { unreachable!("a PostgreSQL database") };
    // The server ends the read connection's own session: that read fails, and so may the next one on the same
    // connection (the first error can arrive as the server's FATAL message, a database error); once it failed at
    // the connection level it is retired and a new connection answers.
    let killed: Result<bool, sqlx::Error> =
        on_read!(&db, |c| sqlx::query_scalar("SELECT pg_terminate_backend(pg_backend_pid())").fetch_one(c).await);
    assert!(killed.is_err(), "the terminated session cannot answer: {killed:?}");
    let read = || async { on_read!(&db, |c| sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(c).await) };
    let answer = match read().await {
        Ok(n) => n,
        Err(e) => {
            assert!(!matches!(e, sqlx::Error::Database(_)), "a connection-level error: {e:?}");
            read().await.expect("a new connection answers")
        }
    };
    assert_eq!(answer, 1);
    assert_eq!(pools.read.size(), 1, "the dead connection was retired, not kept beside the new one");
    db.close().await;
}
