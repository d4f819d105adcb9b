//! `launchpad admin …`.

use std::process::ExitCode;

use dbkit::audit::Event;
use dbkit::soft_delete::SoftDeletable;
use dbkit::{Actor, Writer};
use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{CommandResult, open};
use crate::auth::sessions::end_sessions;
use crate::cli::AdminCommand;
use crate::config::Settings;
use crate::domain::Email;
use crate::domain::text::{NAME, PASSWORD};
use crate::entity::users;
use webkit::auth::password;

pub async fn run(settings: &Settings, command: AdminCommand) -> CommandResult {
    match command {
        AdminCommand::CreateAdmin {
            email,
            password,
            name,
        } => create_admin(settings, &email, &password, &name).await,
    }
}

/// Creates an admin, or promotes the live account with that email and sets its password.
async fn create_admin(settings: &Settings, email: &str, pass: &str, name: &str) -> CommandResult {
    let email = Email::parse(email).map_err(|e| e.to_string())?.into_inner();
    let name = NAME.check(name).map_err(|e| e.to_string())?;
    let pass = PASSWORD.check(pass).map_err(|e| e.to_string())?;
    let db = open(settings).await?;
    let e = |e: sea_orm::DbErr| e.to_string();
    let existing = users::Entity::find_live()
        .filter(users::Column::Email.eq(&email))
        .one(&db)
        .await
        .map_err(e)?;
    let writer = Writer::begin(&db, &Actor::system()).await.map_err(e)?;
    let now = dbkit::time::now();
    let (id, action) = match existing {
        Some(user) => {
            // An operator recovering access means the password given: it is set, and
            // every session the account had ends.
            let id = user.id;
            let hash = password::hash(pass).await.map_err(|e| e.to_string())?;
            let mut model: users::ActiveModel = user.into();
            model.is_admin = Set(true);
            model.password_hash = Set(hash);
            model.updated_at = Set(now);
            model.update(writer.tx()).await.map_err(e)?;
            end_sessions(writer.tx(), id)
                .await
                .map_err(|e| e.to_string())?;
            (id, "admin.promote")
        }
        None => {
            let hash = password::hash(pass).await.map_err(|e| e.to_string())?;
            let model = users::ActiveModel::from(users::NewAccount {
                id: Uuid::now_v7(),
                email: email.clone(),
                name,
                password_hash: hash,
                phone: None,
                is_admin: true,
                signup_step: "completed",
            });
            (
                model.insert(writer.tx()).await.map_err(e)?.id,
                "admin.create",
            )
        }
    };
    writer
        .commit(Event::new(action, "user", id))
        .await
        .map_err(e)?;
    match action {
        "admin.promote" => {
            println!(
                "{email} is an admin ({id}); its password is now the one given, and its sessions ended"
            )
        }
        _ => println!("{email} is an admin ({id})"),
    }
    webkit::cli::seal(&db).await?;
    Ok(ExitCode::SUCCESS)
}
