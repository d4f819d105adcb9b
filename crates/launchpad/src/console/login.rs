//! Signing in and out of the console: the API's sign-in, for admins only, kept in the
//! kit's session cookies.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use webkit::AppError;
use webkit::extract::Client;
use webkit::pages::guard::CsrfToken;
use webkit::pages::{Form, session};

use super::PREFIX;
use super::view::render;
use crate::entity::users;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

async fn login_page(csrf: CsrfToken) -> Response {
    render(&LoginPage {
        csrf: csrf.0,
        email: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    Client(actor): Client,
    csrf: CsrfToken,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Response {
    let credentials = (form.email.as_str(), form.password);
    let signed_in =
        session::sign_in::<users::Model>(&state.auth, &actor, credentials, PREFIX, |u| u.is_admin)
            .await;
    // The API's answer (401 for any bad credentials, 429 when braked, …) on the page.
    let (status, error) = match signed_in {
        Ok(cookies) => {
            return session::with_cookies(webkit::pages::redirect(&headers, PREFIX), cookies);
        }
        Err(AppError::Forbidden) => (
            StatusCode::FORBIDDEN,
            "This console is for admins; sign in with an admin account.".to_owned(),
        ),
        Err(e) => super::view::said(e),
    };
    let page = render(&LoginPage {
        csrf: csrf.0,
        email: form.email,
        error: Some(error),
    });
    (status, page).into_response()
}

async fn logout(
    State(state): State<AppState>,
    Client(actor): Client,
    headers: HeaderMap,
) -> Response {
    match session::sign_out(&state.auth, &actor, &headers, PREFIX).await {
        Ok(cookies) => session::with_cookies(
            webkit::pages::redirect(&headers, &format!("{PREFIX}/login")),
            cookies,
        ),
        Err(e) => e.into_response(),
    }
}
