//! What the assistants produce: `chatbot_history` (messages by session) and
//! `idea_generation_history` (generated project ideas, selected, rated and refined).

use sea_orm_migration::prelude::*;

use crate::common::{self, check, fk, id, soft_delete, timestamps};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut chat = Table::create();
        chat.table("chatbot_history")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("session_id").uuid().not_null())
            .col(ColumnDef::new("project_id").uuid().null())
            .col(ColumnDef::new("message_type").string_len(16).not_null())
            .col(ColumnDef::new("message").text().not_null())
            .col(ColumnDef::new("intent").string_len(100).null())
            .col(ColumnDef::new("response_time_ms").integer().null())
            .check(check(
                "ck_chatbot_history_message_type",
                "message_type IN ('user', 'assistant', 'system')",
            ))
            .check(check(
                "ck_chatbot_history_message_length",
                "length(message) >= 1",
            ))
            .check(check(
                "ck_chatbot_history_response_time",
                "response_time_ms IS NULL OR response_time_ms >= 0",
            ))
            .foreign_key(&mut fk(
                "chatbot_history",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "chatbot_history",
                "project_id",
                "projects",
                ForeignKeyAction::SetNull,
            ));
        timestamps(&mut chat);
        soft_delete(&mut chat, "chatbot_history");
        manager.create_table(chat).await?;

        let mut ideas = Table::create();
        ideas
            .table("idea_generation_history")
            .col(id())
            .col(ColumnDef::new("user_id").uuid().not_null())
            .col(ColumnDef::new("project_id").uuid().null())
            .col(ColumnDef::new("title").string_len(200).not_null())
            .col(ColumnDef::new("description").text().null())
            .col(ColumnDef::new("category").string_len(100).null())
            .col(ColumnDef::new("tech_stack").json_binary().not_null())
            .col(ColumnDef::new("complexity").string_len(16).not_null())
            .col(
                ColumnDef::new("user_selected")
                    .boolean()
                    .not_null()
                    .default(false),
            )
            .col(ColumnDef::new("rating").integer().null())
            .col(ColumnDef::new("refinement_of").uuid().null())
            .check(check(
                "ck_ideas_rating",
                "rating IS NULL OR rating BETWEEN 1 AND 5",
            ))
            .check(check(
                "ck_ideas_complexity",
                "complexity IN ('beginner', 'intermediate', 'advanced')",
            ))
            .check(check("ck_ideas_title_length", "length(title) >= 3"))
            .foreign_key(&mut fk(
                "idea_generation_history",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "idea_generation_history",
                "project_id",
                "projects",
                ForeignKeyAction::Cascade,
            ))
            .foreign_key(&mut fk(
                "idea_generation_history",
                "refinement_of",
                "idea_generation_history",
                ForeignKeyAction::SetNull,
            ));
        timestamps(&mut ideas);
        soft_delete(&mut ideas, "idea_generation_history");
        manager.create_table(ideas).await?;

        let live = "WHERE deleted_at IS NULL";
        common::run(
            manager,
            [
                format!(
                    "CREATE INDEX ix_chatbot_history_user_session_created_live ON chatbot_history \
                     (user_id, session_id, created_at) {live}"
                ),
                format!("CREATE INDEX ix_chatbot_history_user_created_live ON chatbot_history (user_id, created_at) {live}"),
                "CREATE INDEX ix_chatbot_history_created ON chatbot_history (created_at)".to_owned(),
                "CREATE INDEX ix_chatbot_history_intent ON chatbot_history (intent, created_at)".to_owned(),
                format!("CREATE INDEX ix_ideas_user_created_live ON idea_generation_history (user_id, created_at) {live}"),
                format!(
                    "CREATE INDEX ix_ideas_category_selected_live ON idea_generation_history \
                     (category, user_selected) {live}"
                ),
                format!("CREATE INDEX ix_ideas_project_live ON idea_generation_history (project_id) {live}"),
                "CREATE INDEX ix_ideas_refinement_of ON idea_generation_history (refinement_of)".to_owned(),
            ],
        )
        .await?;
        for table in ["chatbot_history", "idea_generation_history"] {
            common::run(manager, common::trash_indexes(table)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        common::drop_tables(manager, &["idea_generation_history", "chatbot_history"]).await
    }
}
