//! The job queue the kit's migration creates: a key queues once, and workers claiming at
//! the same time never share a job.

use std::collections::HashSet;

use dbkit::jobs::{self, NewJob};
use dbkit::testing::TestDb;
use serde_json::json;

use crate::migrated;

dbkit::both_backends! {
    async fn a_dedupe_key_queues_one_job_until_it_has_run(db: TestDb) {
        let conn = migrated(&db).await;
        let job = || NewJob::new("tidy", json!({})).dedupe("tidy:daily");
        let first = jobs::enqueue(&conn, job()).await.expect("enqueue");
        assert!(first.is_some());
        assert_eq!(jobs::enqueue(&conn, job()).await.expect("again"), None);
        let claimed = jobs::claim(&conn, "w1", &["tidy"], 10).await.expect("claim");
        assert_eq!(claimed.len(), 1);
        assert!(jobs::complete(&conn, &claimed[0]).await.expect("complete"));
        assert!(jobs::enqueue(&conn, job()).await.expect("after it ran").is_some());
    }

    async fn workers_claiming_at_once_take_each_job_exactly_once(db: TestDb) {
        let conn = migrated(&db).await;
        for i in 0..40 {
            jobs::enqueue(&conn, NewJob::new("work", json!({ "i": i }))).await.expect("enqueue");
        }
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let conn = conn.clone();
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let batch = jobs::claim(&conn, &format!("w{w}"), &["work"], 3).await.expect("claim");
                        if batch.is_empty() {
                            return mine;
                        }
                        mine.extend(batch.into_iter().map(|j| j.payload["i"].as_i64().expect("i")));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.expect("worker"));
        }
        let distinct: HashSet<_> = all.iter().collect();
        assert_eq!((all.len(), distinct.len()), (40, 40));
    }
}
