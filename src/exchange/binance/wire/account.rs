//! `GET /api/v3/account`, `GET /sapi/v1/account/apiRestrictions`, `GET /api/v3/time`.

use super::{DecodeError, asset};
use crate::domain::{Balance, Timestamp};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::borrow::Cow;

/// What the account endpoint says, in domain terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountInfo {
    /// `canTrade`: false means every order will be refused; the engine should not try.
    pub can_trade: bool,
    /// Non-zero balances only.
    pub balances: Vec<Balance>,
}

/// The API key's own permissions (`/sapi/v1/account/apiRestrictions`, live and demo only).
///
/// `bert run` on `live` refuses to start with a key that can withdraw: a leaked trading-only key
/// can lose money through bad trades, a withdrawing one can empty the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRestrictions {
    pub enable_withdrawals: bool,
    pub enable_internal_transfer: bool,
    pub permits_universal_transfer: bool,
    pub enable_spot_and_margin_trading: bool,
    pub enable_reading: bool,
    pub ip_restrict: bool,
}

impl ApiRestrictions {
    /// True when the key can move funds off the spot account by itself.
    pub fn can_move_funds(&self) -> bool {
        self.enable_withdrawals || self.enable_internal_transfer || self.permits_universal_transfer
    }
}

#[derive(Deserialize)]
struct AccountWire<'a> {
    #[serde(rename = "canTrade")]
    can_trade: bool,
    #[serde(borrow)]
    balances: Vec<BalanceWire<'a>>,
}

#[derive(Deserialize)]
struct BalanceWire<'a> {
    #[serde(borrow)]
    asset: Cow<'a, str>,
    #[serde(with = "rust_decimal::serde::str")]
    free: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    locked: Decimal,
}

#[derive(Deserialize)]
struct RestrictionsWire {
    /// Required: a key whose withdrawal permission is unknown must be treated as unsafe, so a
    /// missing field is a decode error (the caller refuses) rather than a default `false`.
    #[serde(rename = "enableWithdrawals")]
    enable_withdrawals: bool,
    #[serde(rename = "enableInternalTransfer", default)]
    enable_internal_transfer: bool,
    #[serde(rename = "permitsUniversalTransfer", default)]
    permits_universal_transfer: bool,
    #[serde(rename = "enableSpotAndMarginTrading", default)]
    enable_spot_and_margin_trading: bool,
    #[serde(rename = "enableReading", default)]
    enable_reading: bool,
    #[serde(rename = "ipRestrict", default)]
    ip_restrict: bool,
}

#[derive(Deserialize)]
struct TimeWire {
    #[serde(rename = "serverTime")]
    server_time: i64,
}

pub fn decode_account(body: &[u8]) -> Result<AccountInfo, DecodeError> {
    let w: AccountWire<'_> = serde_json::from_slice(body)?;
    let mut balances = Vec::with_capacity(w.balances.len());
    for b in w.balances {
        if b.free.is_zero() && b.locked.is_zero() {
            continue;
        }
        match asset(&b.asset) {
            Ok(a) => balances.push(Balance { asset: a, free: b.free, locked: b.locked }),
            // An asset code Bert cannot represent cannot be one of its positions.
            Err(e) => tracing::debug!(reason = %e, "skipping a balance Bert cannot represent"),
        }
    }
    Ok(AccountInfo { can_trade: w.can_trade, balances })
}

pub fn decode_api_restrictions(body: &[u8]) -> Result<ApiRestrictions, DecodeError> {
    let w: RestrictionsWire = serde_json::from_slice(body)?;
    Ok(ApiRestrictions {
        enable_withdrawals: w.enable_withdrawals,
        enable_internal_transfer: w.enable_internal_transfer,
        permits_universal_transfer: w.permits_universal_transfer,
        enable_spot_and_margin_trading: w.enable_spot_and_margin_trading,
        enable_reading: w.enable_reading,
        ip_restrict: w.ip_restrict,
    })
}

pub fn decode_server_time(body: &[u8]) -> Result<Timestamp, DecodeError> {
    Ok(Timestamp(serde_json::from_slice::<TimeWire>(body)?.server_time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// §6.8, verbatim, plus a zero balance and an asset Bert cannot represent.
    const ACCOUNT: &str = r#"{"makerCommission":15,"takerCommission":15,"buyerCommission":0,"sellerCommission":0,"commissionRates":{"maker":"0.00150000","taker":"0.00150000","buyer":"0.00000000","seller":"0.00000000"},"canTrade":true,"canWithdraw":true,"canDeposit":true,"brokered":false,"requireSelfTradePrevention":false,"preventSor":false,"updateTime":123456789,"accountType":"SPOT","balances":[{"asset":"BTC","free":"4723846.89208129","locked":"0.00000000"},{"asset":"LTC","free":"4763368.68006011","locked":"0.00000000"},{"asset":"ETH","free":"0.00000000","locked":"0.00000000"},{"asset":"这是测试币","free":"1.0","locked":"0.0"}],"permissions":["SPOT"],"uid":354937868}"#;

    #[test]
    fn account_balances_and_can_trade() {
        let a = decode_account(ACCOUNT.as_bytes()).unwrap();
        assert!(a.can_trade);
        assert_eq!(a.balances.len(), 2);
        assert_eq!(a.balances[0].asset.as_str(), "BTC");
        assert_eq!(a.balances[0].free, dec!(4723846.89208129));
    }

    #[test]
    fn restrictions() {
        let body = r#"{"ipRestrict":false,"createTime":1698645219000,"enableReading":true,"enableWithdrawals":true,"enableInternalTransfer":false,"enableMargin":false,"enableFutures":false,"permitsUniversalTransfer":false,"enableVanillaOptions":false,"enableSpotAndMarginTrading":true,"enablePortfolioMarginTrading":false}"#;
        let r = decode_api_restrictions(body.as_bytes()).unwrap();
        assert!(r.enable_withdrawals && r.can_move_funds() && r.enable_spot_and_margin_trading);
        assert!(decode_api_restrictions(br#"{"enableReading":true}"#).is_err(), "unknown withdrawal permission");
    }

    #[test]
    fn server_time() {
        assert_eq!(decode_server_time(br#"{"serverTime": 1499827319559}"#).unwrap(), Timestamp(1499827319559));
        assert!(decode_server_time(b"{}").is_err());
    }
}
