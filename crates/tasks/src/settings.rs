//! The settings: the kits' groups, with the environment names every app on them reads.

use clap::Args;
use webkit::cli::ServiceSettings;
use webkit::config::{ConfigError, DatabaseArgs, LogArgs, ServerArgs, SignInArgs};

/// All settings: the kits' groups.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub sign_in: SignInArgs,
    #[command(flatten)]
    pub server: ServerArgs,
}

impl Settings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.database.validate()?;
        self.sign_in.validate(self.database.app_env)?;
        self.server.validate()
    }
}

impl ServiceSettings for Settings {
    fn database(&self) -> &DatabaseArgs {
        &self.database
    }

    fn validate(&self) -> Result<(), ConfigError> {
        Settings::validate(self)
    }
}
