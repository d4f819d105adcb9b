//! `dbkit`'s soft delete on tables it has never heard of: the data layer is domain-agnostic.

use dbkit::soft_delete::{self, Owned, Registry, SoftDeleteTable};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

use crate::both_backends;

static LEAF: SoftDeleteTable = SoftDeleteTable {
    entity_type: "leaf",
    table: "sd_leaf",
    owns: &[],
};
static BRANCH: SoftDeleteTable = SoftDeleteTable {
    entity_type: "branch",
    table: "sd_branch",
    owns: &[Owned {
        table: &LEAF,
        fk: "branch_id",
    }],
};
static TREE: SoftDeleteTable = SoftDeleteTable {
    entity_type: "tree",
    table: "sd_tree",
    owns: &[Owned {
        table: &BRANCH,
        fk: "tree_id",
    }],
};
static REGISTRY: Registry = Registry(&[&TREE, &BRANCH, &LEAF]);

async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        numbered(sql)
    } else {
        sql.to_owned()
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .expect("exec");
}

/// `?` placeholders to PostgreSQL's `$n`.
fn numbered(sql: &str) -> String {
    let mut n = 0;
    sql.chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

async fn create_tables(db: &DatabaseConnection) {
    let uuid = if db.get_database_backend() == DbBackend::Postgres {
        "uuid"
    } else {
        "blob"
    };
    let ts = if db.get_database_backend() == DbBackend::Postgres {
        "timestamptz"
    } else {
        "text"
    };
    let cols = format!("deleted_at {ts}, deleted_by {uuid}, delete_batch_id {uuid}");
    for sql in [
        format!("CREATE TABLE sd_tree (id {uuid} PRIMARY KEY, {cols})"),
        format!(
            "CREATE TABLE sd_branch (id {uuid} PRIMARY KEY, tree_id {uuid} NOT NULL REFERENCES sd_tree (id), {cols})"
        ),
        format!(
            "CREATE TABLE sd_leaf (id {uuid} PRIMARY KEY, branch_id {uuid} NOT NULL REFERENCES sd_branch (id), {cols})"
        ),
    ] {
        db.execute_unprepared(&sql).await.expect("create");
    }
}

async fn live(db: &DatabaseConnection, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE deleted_at IS NULL");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("q")
        .expect("row");
    row.try_get::<i64>("", "n").expect("n")
}

both_backends! {
    async fn delete_cascades_down_the_tree_and_restore_brings_back_exactly_that_batch(app: TestApp) {
        let db = &app.db;
        create_tables(db).await;
        let (tree, b1, b2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (l1, l2, l3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        exec(db, "INSERT INTO sd_tree (id) VALUES (?)", vec![tree.into()]).await;
        for b in [b1, b2] {
            exec(db, "INSERT INTO sd_branch (id, tree_id) VALUES (?, ?)", vec![b.into(), tree.into()]).await;
        }
        for (l, b) in [(l1, b1), (l2, b1), (l3, b2)] {
            exec(db, "INSERT INTO sd_leaf (id, branch_id) VALUES (?, ?)", vec![l.into(), b.into()]).await;
        }
        // A leaf deleted on its own beforehand is a different batch.
        soft_delete::soft_delete(db, &LEAF, l3, None).await.expect("delete").expect("found");

        let affected = soft_delete::soft_delete(db, &TREE, tree, None).await.expect("delete").expect("found");
        assert_eq!(affected.get("sd_tree"), Some(&1));
        assert_eq!(affected.get("sd_branch"), Some(&2));
        assert_eq!(affected.get("sd_leaf"), Some(&2), "the leaf already in the trash is not re-stamped");
        assert_eq!((live(db, "sd_tree").await, live(db, "sd_branch").await, live(db, "sd_leaf").await), (0, 0, 0));
        assert!(soft_delete::soft_delete(db, &TREE, tree, None).await.expect("again").is_none());

        // A branch cannot come back while its tree is in the trash.
        assert!(REGISTRY.owner_is_deleted(db, &BRANCH, b1).await.expect("check"));

        let restored = soft_delete::restore(db, &TREE, tree).await.expect("restore").expect("found");
        assert_eq!(restored.get("sd_leaf"), Some(&2));
        assert_eq!((live(db, "sd_tree").await, live(db, "sd_branch").await, live(db, "sd_leaf").await), (1, 2, 2));
        assert!(!REGISTRY.owner_is_deleted(db, &LEAF, l3).await.expect("check"));
        assert!(soft_delete::restore(db, &TREE, tree).await.expect("again").is_none());
    }

    async fn restoring_a_branch_brings_back_its_leaves_but_not_its_siblings(app: TestApp) {
        let db = &app.db;
        create_tables(db).await;
        let (tree, b1, b2, l1, l2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        exec(db, "INSERT INTO sd_tree (id) VALUES (?)", vec![tree.into()]).await;
        for b in [b1, b2] {
            exec(db, "INSERT INTO sd_branch (id, tree_id) VALUES (?, ?)", vec![b.into(), tree.into()]).await;
        }
        exec(db, "INSERT INTO sd_leaf (id, branch_id) VALUES (?, ?)", vec![l1.into(), b1.into()]).await;
        exec(db, "INSERT INTO sd_leaf (id, branch_id) VALUES (?, ?)", vec![l2.into(), b2.into()]).await;
        soft_delete::soft_delete(db, &BRANCH, b1, None).await.expect("delete").expect("found");
        soft_delete::soft_delete(db, &BRANCH, b2, None).await.expect("delete").expect("found");
        soft_delete::restore(db, &BRANCH, b1).await.expect("restore").expect("found");
        assert_eq!((live(db, "sd_branch").await, live(db, "sd_leaf").await), (1, 1));
    }
}
