//! The five monitoring views as charts: the most active users, the actions that fail
//! most, chatbot use per day, response time per intent, and ideas per category with
//! how many were chosen. Drawn as SVG on the server: no script, no chart library.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use webkit::AppError;
use webkit::extract::Query;
use webkit::pages::guard::CsrfToken;

use super::SignedInAdmin;
use super::view::{self, Frame};
use crate::resources::stats::{self, DaysQuery};
use crate::state::AppState;

/// Bars per chart.
const TOP: u32 = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/stats", get(page))
}

/// One bar: its label, its length and the figure written beside it.
pub struct Bar {
    pub label: String,
    /// The bar's length, in the chart's units (0–[`BAR_MAX`]).
    pub length: u32,
    pub figure: String,
}

/// The longest bar, in SVG units; labels take the space before it.
const BAR_MAX: u32 = 320;

/// A horizontal bar chart.
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub caption: String,
    pub bars: Vec<Bar>,
}

impl Chart {
    fn new(
        id: &'static str,
        title: &'static str,
        caption: String,
        rows: impl IntoIterator<Item = (String, f64, String)>,
    ) -> Self {
        let rows: Vec<_> = rows.into_iter().collect();
        let max = rows.iter().map(|(_, v, _)| *v).fold(0.0_f64, f64::max);
        let bars = rows
            .into_iter()
            .map(|(label, value, figure)| Bar {
                label: shorten(&label),
                // Rounded to whole units; a non-zero value keeps a visible sliver.
                length: if max > 0.0 {
                    ((value / max * f64::from(BAR_MAX)).round() as u32).max(u32::from(value > 0.0))
                } else {
                    0
                },
                figure,
            })
            .collect();
        Self {
            id,
            title,
            caption,
            bars,
        }
    }

    /// The SVG's height: a bar every 28 units.
    pub fn height(&self) -> usize {
        self.bars.len() * 28 + 8
    }
}

fn shorten(label: &str) -> String {
    if label.chars().count() > 24 {
        label.chars().take(23).collect::<String>() + "…"
    } else {
        label.to_owned()
    }
}

#[derive(Template)]
#[template(path = "console/stats.html")]
struct StatsPage {
    frame: Frame,
    days: u32,
    charts: Vec<Chart>,
}

async fn page(
    State(state): State<AppState>,
    SignedInAdmin(admin): SignedInAdmin,
    csrf: CsrfToken,
    Query(query): Query<DaysQuery>,
) -> Result<Response, AppError> {
    let days = query.parse()?;
    let db = &state.db;
    let window = format!("the last {days} days");
    let active = stats::active_users(db, days, TOP).await?;
    let failed = stats::failed_actions(db, days, TOP).await?;
    let daily = stats::chatbot_daily(db, days).await?;
    let intents = stats::chatbot_intents(db, days, TOP).await?;
    let categories = stats::idea_categories(db, days, TOP).await?;
    let none = |v: Option<String>| v.unwrap_or_else(|| "(none)".to_owned());
    let charts = vec![
        Chart::new(
            "active-users",
            "Most active users",
            format!("Logged actions per user, {window}"),
            active
                .into_iter()
                .map(|r| (r.email, r.actions as f64, r.actions.to_string())),
        ),
        Chart::new(
            "failed-actions",
            "Failing actions",
            format!("Failed or erroneous actions, {window}"),
            failed
                .into_iter()
                .map(|r| (r.action, r.failures as f64, r.failures.to_string())),
        ),
        Chart::new(
            "chatbot-daily",
            "Chatbot use per day",
            format!("Messages per day (and distinct users), {window}"),
            daily.into_iter().map(|r| {
                (
                    r.day,
                    r.messages as f64,
                    format!("{} ({} users)", r.messages, r.unique_users),
                )
            }),
        ),
        Chart::new(
            "chatbot-intents",
            "Chatbot response time",
            format!("Average response time per intent, {window}"),
            intents.into_iter().map(|r| {
                (
                    none(r.intent),
                    r.avg_response_time_ms,
                    format!("{:.0} ms over {}", r.avg_response_time_ms, r.messages),
                )
            }),
        ),
        Chart::new(
            "idea-categories",
            "Ideas per category",
            format!("Ideas per category and the share chosen, {window}"),
            categories.into_iter().map(|r| {
                (
                    none(r.category),
                    r.ideas as f64,
                    format!("{} ({:.0}% chosen)", r.ideas, r.selection_rate * 100.0),
                )
            }),
        ),
    ];
    Ok(view::render(&StatsPage {
        frame: Frame::new("Stats", &admin, csrf),
        days,
        charts,
    }))
}
