//! SQLite's hot reads run on rusqlite connections of their own (`direct_reads`), decoding columns by position and
//! each user's details in separate statements; everything else reads the JSON-aggregating statement through sqlx.
//! Both must return the same user, field by field, and a direct read must see what was committed before it.

use tessera_store::instances::{self, InstanceRow};
use tessera_store::user_list::{self, UserFilter, UserOrder, UserPage};
use tessera_store::users::{self, IdentificationRow, UserRow, UserWithIdentifications};
use tessera_store::{Db, DbTarget, Tx, exec_tx, user_mfa};

const INSTANCE: &str = "ins_direct";

async fn database(dir: &tempfile::TempDir) -> Db {
    let db = Db::connect(&DbTarget::SqliteFile(dir.path().join("t.db"))).await.expect("SQLite file");
    let mut tx: Tx = db.begin().await.expect("begin");
    let row = InstanceRow {
        id: INSTANCE.into(),
        environment_type: "development".into(),
        publishable_key: "pk_test_x".into(),
        created_at: 1,
        updated_at: 1,
    };
    instances::insert(&mut tx, &row).await.expect("instance");
    tx.commit().await.expect("commit");
    db
}

/// A user whose every column holds a value of its own, so that a column read at the wrong position shows.
fn distinct_user(id: &str, created_at: i64) -> UserRow {
    UserRow {
        id: id.into(),
        instance_id: INSTANCE.into(),
        external_id: Some(format!("ext-{id}")),
        username: Some(format!("Name_{id}")),
        username_normalized: Some(format!("name_{id}")),
        first_name: Some("First".into()),
        last_name: Some("Last".into()),
        name_search: "first last".into(),
        locale: Some("fr-FR".into()),
        primary_email_address_id: Some(format!("idn_a_{id}")),
        primary_phone_number_id: Some(format!("idn_b_{id}")),
        primary_web3_wallet_id: None,
        public_metadata: r#"{"public":1}"#.into(),
        private_metadata: r#"{"private":2}"#.into(),
        unsafe_metadata: r#"{"unsafe":3}"#.into(),
        password_digest: Some("$argon2id$digest".into()),
        password_hasher: Some("argon2id".into()),
        password_last_updated_at: Some(created_at + 1),
        password_compromised: true,
        totp_secret_sealed: Some(vec![1, 2, 3, 0, 255]),
        totp_last_step: Some(created_at + 2),
        mfa_enabled_at: Some(created_at + 3),
        mfa_disabled_at: Some(created_at + 4),
        banned: true,
        deprovisioned: false,
        locked_at: Some(created_at + 5),
        lockout_expires_at: Some(created_at + 6),
        failed_verification_attempts: 7,
        image_id: Some(format!("img_{id}")),
        delete_self_enabled: false,
        create_organization_enabled: true,
        create_organizations_limit: Some(8),
        bypass_client_trust: true,
        legal_accepted_at: Some(created_at + 9),
        last_sign_in_at: Some(created_at + 10),
        last_active_at: Some(created_at + 11),
        created_at,
        updated_at: created_at + 12,
    }
}

fn identification(id: &str, user_id: &str, kind: &str, value: &str, created_at: i64) -> IdentificationRow {
    IdentificationRow {
        id: id.into(),
        instance_id: INSTANCE.into(),
        user_id: user_id.into(),
        kind: kind.into(),
        value: value.into(),
        value_normalized: value.to_lowercase(),
        reserved: kind == "phone_number",
        verification_status: Some("verified".into()),
        verification_strategy: Some("admin".into()),
        verification_attempts: Some(2),
        verification_expire_at: Some(created_at + 100),
        reserved_for_second_factor: kind == "phone_number",
        default_second_factor: false,
        created_at,
        updated_at: created_at + 1,
    }
}

/// Inserts `id` with an e-mail address, a phone number and `codes` backup codes.
async fn insert_user(db: &Db, id: &str, created_at: i64, codes: usize) {
    let mut tx = db.begin().await.expect("begin");
    users::insert(&mut tx, &distinct_user(id, created_at)).await.expect("user");
    exec_tx!(&mut tx, sqlx::query("UPDATE users SET deprovisioned = TRUE WHERE id = $1").bind(id)).expect("update");
    // The later identification first: the details come back oldest first whatever the insertion order.
    let phone =
        identification(&format!("idn_b_{id}"), id, "phone_number", &format!("+1555{created_at}"), created_at + 1);
    let email = identification(&format!("idn_a_{id}"), id, "email_address", &format!("{id}@Example.com"), created_at);
    for row in [&phone, &email] {
        users::insert_identification(&mut tx, row).await.expect("identification");
    }
    for n in 0..codes {
        let code = format!("bkc_{id}_{n}");
        user_mfa::insert_backup_code(&mut tx, INSTANCE, id, &code, "sha256", b"digest", created_at)
            .await
            .expect("code");
    }
    tx.commit().await.expect("commit");
}

/// The user as the JSON-aggregating statement reads it (inside a write transaction, through sqlx).
async fn aggregated(db: &Db, id: &str) -> UserWithIdentifications {
    let mut tx = db.begin().await.expect("begin");
    let user = users::get_full_tx(&mut tx, INSTANCE, id).await.expect("read").expect("present");
    drop(tx);
    user
}

fn page(order: UserOrder, limit: i64, offset: i64) -> UserPage {
    UserPage { order, descending: false, limit, offset, after: None }
}

#[tokio::test]
async fn direct_reads_return_what_the_aggregating_statement_returns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database(&dir).await;
    insert_user(&db, "user_a", 1_000, 3).await;
    insert_user(&db, "user_b", 2_000, 0).await;

    let direct = users::get_full(&db, INSTANCE, "user_a").await.expect("read").expect("present");
    let through_sqlx = aggregated(&db, "user_a").await;
    assert_eq!(format!("{direct:?}"), format!("{through_sqlx:?}"));
    assert!(direct.user.deprovisioned && direct.user.banned && direct.user.password_compromised);
    assert_eq!(direct.user.totp_secret_sealed.as_deref(), Some(&[1, 2, 3, 0, 255][..]));
    assert_eq!(direct.backup_code_count, 3);
    let kinds: Vec<&str> = direct.identifications.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["email_address", "phone_number"], "oldest first");

    // Unknown ids and other instances' users are absent.
    assert!(users::get_full(&db, INSTANCE, "user_zzz").await.expect("read").is_none());
    assert!(users::get_full(&db, "ins_other", "user_a").await.expect("read").is_none());

    // A page's ids, in the page's order.
    let all = user_list::list_ids(&db, INSTANCE, &UserFilter::default(), &page(UserOrder::CreatedAt, 10, 0))
        .await
        .expect("list");
    assert_eq!(all, ["user_a", "user_b"]);

    // Filtered lists (by identifier: inline; by name and in another order: on the blocking pool).
    let by_email = UserFilter { email_addresses: vec!["user_b@example.com".into()], ..Default::default() };
    let found = user_list::list_ids(&db, INSTANCE, &by_email, &page(UserOrder::CreatedAt, 10, 0)).await.expect("list");
    assert_eq!(found, ["user_b"]);
    let by_name = UserFilter { name_query: Some("first".into()), ..Default::default() };
    let mut desc = page(UserOrder::EmailAddress, 1, 1);
    desc.descending = true;
    let found = user_list::list_ids(&db, INSTANCE, &by_name, &desc).await.expect("list");
    assert_eq!(found, ["user_a"]);

    // Users by id: each with their own details; unknown ids left out.
    let mut many =
        users::get_many_full(&db, INSTANCE, &["user_b".into(), "user_a".into(), "user_x".into()]).await.expect("many");
    many.sort_by(|a, b| a.user.id.cmp(&b.user.id));
    assert_eq!(many.len(), 2);
    assert_eq!(format!("{:?}", many[1]), format!("{:?}", aggregated(&db, "user_b").await));
    assert_eq!(many[1].backup_code_count, 0);
}

#[tokio::test]
async fn a_direct_read_sees_every_write_committed_before_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = database(&dir).await;
    for n in 0..20 {
        let id = format!("user_{n:02}");
        insert_user(&db, &id, 10_000 + n, 0).await;
        let read = users::get_full(&db, INSTANCE, &id).await.expect("read");
        assert!(read.is_some(), "{id} is read right after its commit");
        let listed = user_list::list_ids(&db, INSTANCE, &UserFilter::default(), &page(UserOrder::CreatedAt, 100, 0))
            .await
            .expect("list");
        assert_eq!(listed.len(), n as usize + 1);
    }
}
