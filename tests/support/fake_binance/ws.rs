//! The WebSocket API (user data stream subscriptions) and the combined market streams.

use super::{Push, Shared};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::Arc;

fn param_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// WebSocket API signature check: every parameter but `signature`, sorted by name,
/// `name=value` joined with `&`, raw (not percent-encoded).
fn verify_ws_signature(secret: &str, params: &serde_json::Map<String, Value>) -> bool {
    let mut pairs: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k.as_str() != "signature").map(|(k, v)| (k.clone(), param_string(v))).collect();
    pairs.sort();
    let payload: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(payload.join("&").as_bytes());
    let want = hex::encode(mac.finalize().into_bytes());
    params.get("signature").and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case(&want))
}

pub async fn ws_api(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| user_connection(shared, socket))
}

fn subscribe_answer(
    shared: &Shared,
    id: &Value,
    params: &serde_json::Map<String, Value>,
    next_sub: &mut u64,
) -> (Value, Option<u64>) {
    let error =
        |status: u16, code: i64, msg: &str| json!({"id": id, "status": status, "error": {"code": code, "msg": msg}});
    if let Some(r) = shared.reject_subscribe.lock().unwrap_or_else(|p| p.into_inner()).clone() {
        let mut e = error(r.status, r.code, &r.msg);
        if let Some(retry) = r.retry_after_ms {
            e["error"]["data"] = json!({"serverTime": shared.lock().now_ms(), "retryAfter": retry});
        }
        return (e, None);
    }
    let (key, secret, now) = {
        let s = shared.lock();
        (s.api_key.clone(), s.secret.clone(), s.now_ms())
    };
    if params.get("apiKey").and_then(Value::as_str) != Some(key.as_str()) {
        return (error(401, -2015, "Invalid API-key, IP, or permissions for action."), None);
    }
    if !verify_ws_signature(&secret, params) {
        shared.ws.lock().unwrap_or_else(|p| p.into_inner()).bad_subscribes += 1;
        return (error(400, -1022, "Signature for this request is not valid."), None);
    }
    let ts = params.get("timestamp").and_then(Value::as_i64).unwrap_or(0);
    let window = params.get("recvWindow").and_then(Value::as_f64).unwrap_or(5000.0);
    if ts >= now + 1000 || (now - ts) as f64 > window {
        return (error(400, -1021, "Timestamp for this request is outside of the recvWindow."), None);
    }
    let sub = *next_sub;
    *next_sub += 1;
    shared.ws.lock().unwrap_or_else(|p| p.into_inner()).subscribes += 1;
    let answer = json!({
        "id": id, "status": 200, "result": {"subscriptionId": sub},
        "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": 2}],
    });
    (answer, Some(sub))
}

async fn user_connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let mut push = shared.push.subscribe();
    {
        let mut log = shared.ws.lock().unwrap_or_else(|p| p.into_inner());
        log.connections += 1;
        log.open_user_connections += 1;
    }
    let every = *shared.ping_every.lock().unwrap_or_else(|p| p.into_inner());
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut subscription: Option<u64> = None;
    let mut next_sub = 0u64;
    let mut silent = false;
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(msg)) = incoming else { break };
                match msg {
                    Message::Text(text) => {
                        let Ok(req) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                        let id = req.get("id").cloned().unwrap_or(Value::Null);
                        let answer = match req.get("method").and_then(Value::as_str) {
                            Some("userDataStream.subscribe.signature") => {
                                let params = req.get("params").and_then(Value::as_object).cloned().unwrap_or_default();
                                let (answer, sub) = subscribe_answer(&shared, &id, &params, &mut next_sub);
                                if sub.is_some() {
                                    subscription = sub;
                                }
                                answer
                            }
                            _ => json!({"id": id, "status": 400, "error": {"code": -1100, "msg": "Unknown method."}}),
                        };
                        if !silent && socket.send(Message::Text(answer.to_string().into())).await.is_err() {
                            break;
                        }
                    }
                    Message::Pong(p) => shared.ws.lock().unwrap_or_else(|p| p.into_inner()).pongs.push(p.to_vec()),
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            p = push.recv() => {
                let p = match p {
                    Ok(p) => p,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                if silent {
                    continue;
                }
                let out = match p {
                    Push::Event(event) => match subscription {
                        Some(sub) => Message::Text(json!({"subscriptionId": sub, "event": event}).to_string().into()),
                        None => continue,
                    },
                    Push::Ping(payload) => Message::Ping(payload.into()),
                    Push::Drop => break,
                    Push::Silence => { silent = true; continue; }
                    Push::ServerShutdown => {
                        let now = shared.lock().now_ms();
                        Message::Text(json!({"event": {"e": "serverShutdown", "E": now}}).to_string().into())
                    }
                    Push::Terminate => match subscription.take() {
                        Some(sub) => {
                            let now = shared.lock().now_ms();
                            Message::Text(json!({"subscriptionId": sub, "event": {"e": "eventStreamTerminated", "E": now}}).to_string().into())
                        }
                        None => continue,
                    },
                    Push::Kline(..) => continue,
                };
                if socket.send(out).await.is_err() {
                    break;
                }
            }
            _ = pings.tick() => {
                if !silent && socket.send(Message::Ping(b"keepalive".to_vec().into())).await.is_err() {
                    break;
                }
            }
        }
    }
    shared.ws.lock().unwrap_or_else(|p| p.into_inner()).open_user_connections -= 1;
}

pub async fn market(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let streams: Vec<String> = query
        .unwrap_or_default()
        .split('&')
        .find_map(|p| p.strip_prefix("streams=").map(|s| s.split('/').map(str::to_string).collect()))
        .unwrap_or_default();
    upgrade.on_upgrade(move |socket| market_connection(shared, socket, streams))
}

async fn market_connection(shared: Arc<Shared>, mut socket: WebSocket, streams: Vec<String>) {
    let mut push = shared.push.subscribe();
    {
        let mut log = shared.ws.lock().unwrap_or_else(|p| p.into_inner());
        log.market_connections += 1;
        log.market_streams = streams.clone();
    }
    let every = *shared.ping_every.lock().unwrap_or_else(|p| p.into_inner());
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut silent = false;
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                match incoming {
                    Some(Ok(Message::Pong(p))) => shared.ws.lock().unwrap_or_else(|p| p.into_inner()).pongs.push(p.to_vec()),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    _ => {}
                }
            }
            p = push.recv() => {
                let p = match p {
                    Ok(p) => p,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                if silent {
                    continue;
                }
                let out = match p {
                    Push::Kline(stream, data) if streams.contains(&stream) => {
                        Message::Text(json!({"stream": stream, "data": data}).to_string().into())
                    }
                    Push::Drop => break,
                    Push::Silence => { silent = true; continue; }
                    Push::ServerShutdown => {
                        let now = shared.lock().now_ms();
                        Message::Text(json!({"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": now}}).to_string().into())
                    }
                    _ => continue,
                };
                if socket.send(out).await.is_err() {
                    break;
                }
            }
            _ = pings.tick() => {
                if !silent && socket.send(Message::Ping(b"keepalive".to_vec().into())).await.is_err() {
                    break;
                }
            }
        }
    }
}
