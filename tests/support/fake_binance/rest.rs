//! REST endpoints: signature and timestamp checks, metering, faults, then the state.

use super::Shared;
use super::state::{ApiErr, Endpoint, Fault, Recorded};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Splits `a=1&b=2` into decoded pairs, keeping order.
pub fn parse_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn hmac_hex(secret: &str, payload: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// Binance's check: the signature covers the query string exactly as received (without the
/// `signature` pair) followed by the body.
fn verify_signature(secret: &str, raw_query: &str, body: &str) -> Result<(), ApiErr> {
    let mut signature = None;
    let kept: Vec<&str> = raw_query
        .split('&')
        .filter(|p| match p.strip_prefix("signature=") {
            Some(sig) => {
                signature = Some(sig.to_string());
                false
            }
            None => true,
        })
        .collect();
    let invalid = ApiErr::new(400, -1022, "Signature for this request is not valid.");
    let given = signature.ok_or_else(|| {
        ApiErr::new(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    })?;
    let payload = format!("{}{}", kept.join("&"), body);
    if !hmac_hex(secret, payload.as_bytes()).eq_ignore_ascii_case(&given) {
        return Err(invalid);
    }
    Ok(())
}

fn check_timestamp(params: &HashMap<String, String>, server_now: i64) -> Result<(), ApiErr> {
    let ts = params.get("timestamp").and_then(|t| t.parse::<i64>().ok()).ok_or_else(|| {
        ApiErr::new(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
    })?;
    let window = params.get("recvWindow").and_then(|w| w.parse::<f64>().ok()).unwrap_or(5000.0);
    if window > 60_000.0 {
        return Err(ApiErr::new(400, -1131, "recvWindow must be less than 60000"));
    }
    if ts >= server_now + 1000 {
        return Err(ApiErr::new(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."));
    }
    if (server_now - ts) as f64 > window {
        return Err(ApiErr::new(400, -1021, "Timestamp for this request is outside of the recvWindow."));
    }
    Ok(())
}

fn error_response(e: &ApiErr, headers: &[(String, String)], retry_after: Option<u64>) -> Response {
    let mut body = json!({"code": e.code, "msg": e.msg});
    if let Some(data) = &e.data {
        body["data"] = data.clone();
    }
    let mut resp =
        (StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(body)).into_response();
    add_headers(&mut resp, headers);
    if let Some(s) = retry_after {
        resp.headers_mut().insert("retry-after", HeaderValue::from(s));
    }
    resp
}

fn add_headers(resp: &mut Response, headers: &[(String, String)]) {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (axum::http::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            resp.headers_mut().insert(name, value);
        }
    }
}

/// (endpoint, weight, signed, counts as an order)
fn route(method: &Method, path: &str, params: &HashMap<String, String>) -> Option<(Endpoint, u32, bool, bool)> {
    Some(match (method.as_str(), path) {
        ("POST", "/api/v3/order") => (Endpoint::Place, 1, true, true),
        ("DELETE", "/api/v3/order") => (Endpoint::Cancel, 1, true, false),
        ("POST", "/api/v3/order/cancelReplace") => (Endpoint::CancelReplace, 1, true, true),
        ("GET", "/api/v3/order") => (Endpoint::Query, 4, true, false),
        ("GET", "/api/v3/openOrders") => {
            (Endpoint::OpenOrders, if params.contains_key("symbol") { 6 } else { 80 }, true, false)
        }
        ("GET", "/api/v3/myTrades") => (Endpoint::MyTrades, 5, true, false),
        ("GET", "/api/v3/account") => (Endpoint::Account, 20, true, false),
        ("GET", "/sapi/v1/account/apiRestrictions") => (Endpoint::ApiRestrictions, 1, true, false),
        ("GET", "/api/v3/exchangeInfo") => (Endpoint::ExchangeInfo, 20, false, false),
        ("GET", "/api/v3/klines") => (Endpoint::Klines, 2, false, false),
        ("GET", "/api/v3/time") => (Endpoint::Time, 1, false, false),
        _ => return None,
    })
}

pub async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw_query = uri.query().unwrap_or("").to_string();
    let body = String::from_utf8_lossy(&body).into_owned();
    let mut params: HashMap<String, String> = parse_pairs(&body).into_iter().collect();
    // The query string wins over the body, as on Binance.
    params.extend(parse_pairs(&raw_query));
    let path = uri.path().to_string();

    let outcome = {
        let mut s = shared.lock();
        process(&mut s, &method, &path, &raw_query, &body, &headers, &params)
    };
    shared.flush_events();
    let (status, response, hang) = match outcome {
        Outcome::Answer(resp) => (resp.status().as_u16(), resp, false),
        Outcome::Hang(resp) => (resp.status().as_u16(), resp, true),
    };
    shared.lock().requests.push(Recorded { method: method.to_string(), path, params, status });
    if hang {
        std::future::pending::<()>().await;
    }
    response
}

enum Outcome {
    Answer(Response),
    /// Never answer (the response is only used for the log).
    Hang(Response),
}

fn process(
    s: &mut super::State,
    method: &Method,
    path: &str,
    raw_query: &str,
    body: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Outcome {
    let Some((endpoint, weight, signed, order)) = route(method, path, params) else {
        return Outcome::Answer((StatusCode::NOT_FOUND, "<html>404 Not Found</html>").into_response());
    };
    let usage = match s.meter(weight, order) {
        Ok(h) => h,
        Err(retry) => {
            s.rate_limited_answers += 1;
            let e = ApiErr::new(
                429,
                -1003,
                "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.",
            );
            return Outcome::Answer(error_response(&e, &[], Some(retry)));
        }
    };
    if signed {
        let key_ok = headers.get("x-mbx-apikey").and_then(|v| v.to_str().ok()) == Some(s.api_key.as_str());
        if !key_ok {
            return Outcome::Answer(error_response(
                &ApiErr::new(401, -2015, "Invalid API-key, IP, or permissions for action."),
                &usage,
                None,
            ));
        }
        if let Err(e) = verify_signature(&s.secret.clone(), raw_query, body) {
            if e.code == -1022 {
                s.bad_signatures += 1;
            }
            return Outcome::Answer(error_response(&e, &usage, None));
        }
        if let Err(e) = check_timestamp(params, s.now_ms()) {
            s.skewed_requests += 1;
            return Outcome::Answer(error_response(&e, &usage, None));
        }
    }
    let fault = s.take_fault(endpoint);
    match &fault {
        Some(Fault::Reject { status, code, msg, retry_after }) => {
            if *status == 429 || *status == 418 {
                s.rate_limited_answers += 1;
            }
            return Outcome::Answer(error_response(&ApiErr::new(*status, *code, msg), &usage, *retry_after));
        }
        Some(Fault::Hang) => return Outcome::Hang(StatusCode::REQUEST_TIMEOUT.into_response()),
        _ => {}
    }
    let result: Result<Value, ApiErr> = match endpoint {
        Endpoint::Place => s.place(params),
        Endpoint::Cancel => s.cancel(params),
        Endpoint::CancelReplace => s.cancel_replace(params),
        Endpoint::Query => s.query(params),
        Endpoint::OpenOrders => Ok(s.open_orders(params)),
        Endpoint::MyTrades => Ok(s.my_trades(params)),
        Endpoint::Account => Ok(s.account(params)),
        Endpoint::ApiRestrictions => Ok(json!({
            "ipRestrict": false, "createTime": 1698645219000i64, "enableReading": true,
            "enableWithdrawals": s.enable_withdrawals, "enableInternalTransfer": false, "enableMargin": false,
            "enableFutures": false, "permitsUniversalTransfer": false, "enableVanillaOptions": false,
            "enableSpotAndMarginTrading": true, "enablePortfolioMarginTrading": false,
        })),
        Endpoint::ExchangeInfo => s.exchange_info(params),
        Endpoint::Klines => s.klines(params),
        Endpoint::Time => Ok(json!({"serverTime": s.now_ms()})),
        Endpoint::Any => Err(ApiErr::new(404, -1000, "unreachable")),
    };
    // Order counts are only reported on successful orders.
    let usage: Vec<(String, String)> =
        usage.into_iter().filter(|(k, _)| result.is_ok() || !k.starts_with("x-mbx-order-count")).collect();
    match fault {
        Some(Fault::AcceptThenFail { status, body }) => {
            let mut resp =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body).into_response();
            add_headers(&mut resp, &usage);
            Outcome::Answer(resp)
        }
        Some(Fault::AcceptThenHang) => Outcome::Hang(StatusCode::OK.into_response()),
        _ => match result {
            Ok(v) => {
                let mut resp = axum::Json(v).into_response();
                add_headers(&mut resp, &usage);
                Outcome::Answer(resp)
            }
            Err(e) => Outcome::Answer(error_response(&e, &usage, None)),
        },
    }
}
