//! Soft delete on tables the kit has never heard of, made with its column helper: a
//! delete cascades down the ownership graph as one batch, and a restore brings back
//! exactly that batch.

use dbkit::soft_delete::{self, Owned, Registry, SoftDeleteTable};
use dbkit::testing::TestDb;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

use crate::migrated;

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

/// Inserts a row of `table`, its parent `fk` set when given.
async fn insert(db: &DatabaseConnection, table: &str, id: Uuid, parent: Option<(&str, Uuid)>) {
    let mut insert = Query::insert();
    insert.into_table(Alias::new(table));
    match parent {
        None => insert.columns([Alias::new("id")]).values_panic([id.into()]),
        Some((fk, parent)) => insert
            .columns([Alias::new("id"), Alias::new(fk)])
            .values_panic([id.into(), parent.into()]),
    };
    db.execute(&insert).await.expect("insert");
}

async fn live(db: &DatabaseConnection, table: &str) -> i64 {
    let count = Query::select()
        .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("deleted_at")).is_null())
        .to_owned();
    let row = db.query_one(&count).await.expect("count").expect("row");
    row.try_get::<i64>("", "n").expect("n")
}

dbkit::both_backends! {
    async fn delete_cascades_down_the_tree_and_restore_brings_back_exactly_that_batch(test_db: TestDb) {
        let conn = migrated(&test_db).await;
        let db = &conn;
        let (tree, b1, b2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (l1, l2, l3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        insert(db, "sd_tree", tree, None).await;
        for b in [b1, b2] {
            insert(db, "sd_branch", b, Some(("tree_id", tree))).await;
        }
        for (l, b) in [(l1, b1), (l2, b1), (l3, b2)] {
            insert(db, "sd_leaf", l, Some(("branch_id", b))).await;
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

    async fn restoring_a_branch_brings_back_its_leaves_but_not_its_siblings(test_db: TestDb) {
        let conn = migrated(&test_db).await;
        let db = &conn;
        let (tree, b1, b2, l1, l2) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        insert(db, "sd_tree", tree, None).await;
        for b in [b1, b2] {
            insert(db, "sd_branch", b, Some(("tree_id", tree))).await;
        }
        insert(db, "sd_leaf", l1, Some(("branch_id", b1))).await;
        insert(db, "sd_leaf", l2, Some(("branch_id", b2))).await;
        soft_delete::soft_delete(db, &BRANCH, b1, None).await.expect("delete").expect("found");
        soft_delete::soft_delete(db, &BRANCH, b2, None).await.expect("delete").expect("found");
        soft_delete::restore(db, &BRANCH, b1).await.expect("restore").expect("found");
        assert_eq!((live(db, "sd_branch").await, live(db, "sd_leaf").await), (1, 1));
    }
}
