//! `/performance`, `/chart` and `/alerts`: the bot's [`ChatHook`] for the read-only views that
//! are answered from the store rather than by the engine.
//!
//! * `/performance`: statistics of the closed trades overall and by month, as text.
//! * `/chart`: the equity curve as a PNG ([`crate::chart::equity_png`], the renderer of the demo
//!   and backtest charts), entries and exits marked, sent as a photo through the outbox.
//! * `/alerts`: which alert categories the chat receives, with one button per category; a press
//!   flips it in the store (`ChatSettings::muted`, which the store's routing obeys) and edits
//!   the message to show the new state.
//!
//! The texts, the curve and the buttons are pure and shared with the console: they live in
//! [`crate::chat::views`] (re-exported here), which also explains how the curve is built. The
//! hook itself only reads the store and the engine on blocking threads.

use super::bot::{ChatHook, HookAnswer, HookPress, HookRequest};
use crate::app::driver::{Clock, EngineHandle};
use crate::chart::equity_png;
use crate::chat::auth::Role;
use crate::chat::format::Mode;
use crate::chat::parse::ChatCommand;
use crate::domain::{AssetCode, ClosedTrade};
use crate::i18n::{Lang, tr, tr_html};
use crate::store::{ChatSettings, OutboxBody, Store};
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;
use std::sync::Arc;

pub use crate::chat::views::{
    CHART_HEIGHT, CHART_WIDTH, ChartData, MUTABLE, account_of, alerts_button_data, alerts_buttons, alerts_prompt,
    alerts_switched, alerts_text, category_name, chart_caption, chart_data, closed_curve, implied_start,
    parse_alerts_button, performance_text, toggle,
};

/// The hook: see the module docs.
pub struct Views {
    store: Arc<Store>,
    engine: EngineHandle,
    clock: Arc<dyn Clock>,
    quote: AssetCode,
}

impl Views {
    pub fn new(store: Arc<Store>, engine: EngineHandle, clock: Arc<dyn Clock>, quote: AssetCode) -> Views {
        Views { store, engine, clock, quote }
    }
}

/// What the engine knows that the views need: the portfolio value (`None` while no balance is
/// known) and the open positions' unrealized P&L.
async fn account(engine: &EngineHandle) -> (Option<Decimal>, Decimal) {
    match engine.view().await {
        Ok(v) => account_of(v.portfolio, &v.positions),
        Err(_) => (None, Decimal::ZERO),
    }
}

async fn closed_trades(store: &Arc<Store>) -> Option<Vec<ClosedTrade>> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || store.closed_trades()).await {
        Ok(Ok(t)) => Some(t),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read the closed trades");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the closed trades");
            None
        }
    }
}

fn text(html: String) -> Vec<OutboxBody> {
    vec![OutboxBody::Text { html }]
}

impl ChatHook for Views {
    fn command(&self, request: HookRequest) -> BoxFuture<'static, Option<Vec<OutboxBody>>> {
        let (store, engine, clock, quote) =
            (self.store.clone(), self.engine.clone(), self.clock.clone(), self.quote.to_string());
        let lang = request.lang;
        Box::pin(async move {
            match request.command {
                ChatCommand::Performance => {
                    let Some(trades) = closed_trades(&store).await else {
                        return Some(text(format!("⚠️ {}", tr_html(lang, "stats-unavailable", &[]))));
                    };
                    let (portfolio, open_pnl) = account(&engine).await;
                    let start = implied_start(&trades, portfolio, open_pnl);
                    Some(text(performance_text(&trades, start, &quote, lang, Mode::Html)))
                }
                ChatCommand::Chart => {
                    let Some(trades) = closed_trades(&store).await else {
                        return Some(text(format!("⚠️ {}", tr_html(lang, "stats-unavailable", &[]))));
                    };
                    let (portfolio, open_pnl) = account(&engine).await;
                    let data = chart_data(&trades, portfolio, open_pnl, clock.now());
                    let caption = chart_caption(&trades, portfolio, &quote, lang, Mode::Html);
                    let title = tr(lang, "chart-title", &[]);
                    // Drawing is CPU work (tens of milliseconds): off the async workers.
                    let drawn = tokio::task::spawn_blocking(move || {
                        equity_png(&title, &data.points, &data.marks, CHART_WIDTH, CHART_HEIGHT)
                    })
                    .await;
                    match drawn {
                        Ok(Ok(png)) => Some(vec![OutboxBody::Photo { png, caption }]),
                        Ok(Err(e)) => {
                            tracing::error!(error = %e, "cannot draw the chart");
                            Some(text(format!("⚠️ {}", tr_html(lang, "chart-failed", &[]))))
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot draw the chart");
                            Some(text(format!("⚠️ {}", tr_html(lang, "chart-failed", &[]))))
                        }
                    }
                }
                ChatCommand::Alerts => {
                    let chat = request.chat;
                    let settings = {
                        let store = store.clone();
                        match tokio::task::spawn_blocking(move || store.chat_settings(chat)).await {
                            Ok(Ok(s)) => s,
                            _ => ChatSettings::default(),
                        }
                    };
                    let (html, buttons) = alerts_prompt(&settings, lang);
                    Some(vec![OutboxBody::Prompt { html, buttons, token: None }])
                }
                _ => None,
            }
        })
    }

    fn callback(&self, press: HookPress) -> BoxFuture<'static, Option<HookAnswer>> {
        let store = self.store.clone();
        Box::pin(async move {
            let category = parse_alerts_button(&press.data)?;
            let (chat, message_id) = press.message?;
            let lang = {
                let store = store.clone();
                match tokio::task::spawn_blocking(move || store.chat_settings(chat)).await {
                    Ok(Ok(s)) => s.language.as_deref().map(Lang::from_code).unwrap_or_default(),
                    _ => Lang::default(),
                }
            };
            if press.role == Role::Stranger {
                let text = tr(lang, "alerts-not-allowed", &[]);
                return Some(HookAnswer { text: Some(text), alert: true, messages: Vec::new() });
            }
            let updated = tokio::task::spawn_blocking(move || {
                let mut muted = false;
                let settings = store.update_chat_settings(chat, |s| muted = toggle(s, category))?;
                Ok::<_, crate::store::StoreError>((settings, muted))
            })
            .await;
            let (settings, muted) = match updated {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::error!(chat, error = %e, "cannot save the chat's alert settings");
                    return Some(HookAnswer::default());
                }
                Err(e) => {
                    tracing::error!(chat, error = %e, "cannot save the chat's alert settings");
                    return Some(HookAnswer::default());
                }
            };
            tracing::info!(chat, presser = press.presser, ?category, muted, "alert category switched");
            let (html, buttons) = alerts_prompt(&settings, lang);
            Some(HookAnswer {
                text: Some(alerts_switched(category, muted, lang)),
                alert: false,
                messages: vec![OutboxBody::Edit { message_id: Some(message_id), token: None, html, buttons }],
            })
        })
    }
}

#[cfg(test)]
mod tests;
