//! Access tokens: HS256 JWTs with a pinned algorithm, required `exp`/`iss`/`aud`/`sub`
//! and a small explicit leeway.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Clock skew tolerated between servers, in seconds (the library default is 60).
const LEEWAY_SECS: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    /// The user's `token_version` when the token was issued.
    ver: i32,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

/// Signs and checks access tokens.
pub struct Jwt {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    /// Lifetime of an access token, in seconds.
    pub ttl_secs: i64,
}

impl Jwt {
    /// Keys from the configured secret. Tokens name `app` as their issuer and
    /// `<app>-api` as their audience, so that another service's tokens, signed with the
    /// same secret by mistake, are refused.
    pub fn new(app: &str, secret: &str, ttl_minutes: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[app]);
        validation.set_audience(&[format!("{app}-api")]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            issuer: app.to_owned(),
            ttl_secs: i64::try_from(ttl_minutes * 60).unwrap_or(i64::MAX),
        }
    }

    /// A signed access token for `user_id` at the user's current `token_version`.
    pub fn issue(
        &self,
        user_id: Uuid,
        version: i32,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            ver: version,
            iat: now,
            exp: now + self.ttl_secs,
            iss: self.issuer.clone(),
            aud: format!("{}-api", self.issuer),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The user a valid token was issued to, and the token version it carries; `None`
    /// for anything else.
    pub fn verify(&self, token: &str) -> Option<(Uuid, i32)> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| (d.claims.sub, d.claims.ver))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_token_round_trips() {
        let jwt = Jwt::new("app", SECRET, 15);
        let id = Uuid::now_v7();
        assert_eq!(jwt.verify(&jwt.issue(id, 3).expect("sign")), Some((id, 3)));
    }

    #[test]
    fn another_secret_is_rejected() {
        let token = Jwt::new("app", SECRET, 15)
            .issue(Uuid::now_v7(), 0)
            .expect("sign");
        assert_eq!(
            Jwt::new("app", "another-secret-another-secret-another", 15).verify(&token),
            None
        );
    }

    #[test]
    fn another_apps_token_is_rejected() {
        let token = Jwt::new("app", SECRET, 15)
            .issue(Uuid::now_v7(), 0)
            .expect("sign");
        assert_eq!(Jwt::new("other", SECRET, 15).verify(&token), None);
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let mut jwt = Jwt::new("app", SECRET, 15);
        jwt.ttl_secs = -(LEEWAY_SECS as i64) - 10;
        let token = jwt.issue(Uuid::now_v7(), 0).expect("sign");
        assert_eq!(jwt.verify(&token), None);
    }

    #[test]
    fn unsigned_tokens_are_rejected() {
        // alg "none": header {"alg":"none","typ":"JWT"}
        let jwt = Jwt::new("app", SECRET, 15);
        let signed = jwt.issue(Uuid::now_v7(), 0).expect("sign");
        let payload = signed.split('.').nth(1).expect("payload");
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert_eq!(jwt.verify(&unsigned), None);
    }
}
