# Bert's messages, English (the reference and the fallback for every other language).
#
# Conventions:
# - Numbers arrive already formatted (digit grouping, decimals) as strings; only counts that
#   pick a plural form ($count, $days, $max) are numbers.
# - No markup here: the HTML renderer escapes this text and bolds arguments itself.
# - $base is an asset such as BTC, $quote the quote asset such as USDT, $pair e.g. BTCUSDT.

## Shared pieces

days =
    { $days ->
        [0] less than a day
        [one] { $days } day
       *[other] { $days } days
    }
arg-symbol = SYMBOL
arg-price = PRICE
arg-code = CODE

## /start, /help

intro = I'm Bert, a trading assistant for Binance spot. I follow the Edge70 breakout strategy on daily candles, size every position by risk, and protect each one with a stop order on the exchange.
help-header = Commands you can use:
help-footer = Symbols can be typed as btc, BTC or BTCUSDT.
help-stranger = You can't see or trade positions yet. Send /id and ask the owner to add your id.
cmd-start = what I am and what you can do
cmd-help = this list of commands
cmd-id = your user id and this chat's id
cmd-enter = buy a position, sized by the risk rules
cmd-exit = sell a whole position at market
cmd-stop = move a position's stop to a new price
cmd-list = open positions with P&L and stops
cmd-status = connection, circuit breaker and trading state
cmd-balance = balances and portfolio value
cmd-performance = statistics of closed trades
cmd-chart = the equity curve as an image
cmd-pause = stop new entries (exits and stops keep working)
cmd-resume = allow new entries again
cmd-lang = change this chat's language
cmd-alerts = which alerts this chat receives

## /id, authorization, /lang

id-reply = Your id is { $user }, this chat's id is { $chat }.
id-reply-anonymous = This message was sent on behalf of a group or channel, so it has no user id. This chat's id is { $chat }.
not-authorized = Not authorized. Your id is { $user }.
not-authorized-anonymous = Messages sent on behalf of a group or a channel can't be authorized. Send the command from your own account.
viewer-refused = Only traders can do that. You have read-only access.
lang-set = Language set to English.
lang-current = Language: English. Available: { $list }. Change it with /lang CODE, for example /lang ru.
lang-unknown = I don't speak "{ $code }". Available: { $list }.

## Command errors

error-not-a-command = Commands start with a slash. Type /help to see them.
error-other-bot = That command is meant for another bot.
error-unknown = I don't know the command /{ $name }. Type /help to see the commands.
error-missing-symbol = Which symbol? For example: /{ $command } BTC
error-bad-symbol = "{ $input }" is not a symbol. Type the asset (BTC) or the pair (BTCUSDT).
error-missing-price = Which price? For example: /stop BTC 41000
error-bad-price = "{ $input }" is not a usable price. Type a positive number with a dot for decimals, for example 41000 or 0.00001234.
error-too-many-args = Too many words after /{ $command }. Usage: { $usage }
error-too-long = That message is too long to be a command.

## Confirmations (buttons)

button-confirm = Confirm
button-cancel = Cancel
confirm-expired = This confirmation has expired. Send the command again.
confirm-not-yours = Only the person who sent the command can confirm it.
confirm-cancelled = Cancelled. Nothing was done.

## Refusals

refusal-paused = Trading is paused, so no new entries. Use /resume to allow them again.
refusal-breaker-open = The circuit breaker is open: no new orders until the exchange connection is healthy again. See /status.
refusal-already-in-position = You already hold { $base }. Use /exit { $base } first.
refusal-no-position = There is no open { $base } position.
refusal-busy = An order for { $base } is already in progress. Wait until it finishes.
refusal-unknown-symbol = The exchange does not list { $pair }.
refusal-no-price = There is no price for { $base } yet. Try again in a moment.
refusal-max-open-positions =
    { $max ->
        [one] The limit of { $max } open position is reached.
       *[other] The limit of { $max } open positions is reached.
    }
refusal-portfolio-risk-full = The open positions already risk { $max } of the portfolio, the most allowed.
refusal-no-free-balance = There is no free { $asset } to buy with.
refusal-below-minimum = The order would be worth { $value }, below the exchange minimum of { $min }.
refusal-filters = The exchange's rules refuse the order: { $detail }
refusal-no-portfolio = The portfolio value is not known yet (no balances from the exchange). Try again in a moment.

## Entry preview and placement

entry-preview-title = Enter { $base }?
entry-preview-buy = Buy { $qty } { $base } at up to { $limit } { $quote } (last price { $reference }).
entry-preview-value = Cost: up to { $value } { $quote }.
entry-preview-stop = Stop: { $stop } { $quote }.
entry-preview-risk = Risk: { $risk } { $quote }, { $risk_pct } of the portfolio ({ $portfolio } { $quote }).
entry-preview-bound = Size limited by { $bound }.
bound-risk = the risk per trade
bound-max-position = the maximum position size
bound-free-balance = the free balance
bound-portfolio-risk = the portfolio risk cap
entry-placed = Entry placed: buying { $qty } { $base } at up to { $limit } { $quote }.
entry-reason-manual = Requested by user { $user }.
entry-reason-signal = Triggered by an Edge70 signal.
entry-fill-full = Bought { $qty } { $base } at { $price } { $quote }. Entry filled: { $filled } { $base }, average price { $avg }.
entry-fill-partial = Bought { $qty } { $base } at { $price } { $quote }. Filled so far: { $filled } of { $ordered } { $base }, average price { $avg }.
fill-fee = Fee: { $fee } { $asset }.
entry-failed = The { $base } entry failed; nothing was bought.
reason-line = Reason: { $reason }

## Stops and exits

stop-placed = Stop placed for { $qty } { $base }: it triggers at { $stop } and sells at no less than { $limit } { $quote }.
stop-refused = The exchange refused the { $base } stop. Selling the position at market instead.
stop-lost = The { $base } stop was cancelled or expired outside Bert. Placing a new one.
stop-vanished = The exchange no longer knows the { $base } stop: the position had no protection. Placing a new stop.
stop-fills-pending = The { $base } stop ended on the exchange, but what it sold cannot be read yet. Bert places no new stop and sells nothing until it knows. Check the position on Binance.
stop-fill = Stop hit: sold { $qty } { $base } at { $price } { $quote }.
exit-preview-title = Exit { $base }?
exit-preview-sell = Sell { $qty } { $base } at market.
exit-preview-price = Last price: { $price } { $quote }.
exit-preview-no-price = No current price is known.
exit-preview-pnl = P&L so far: { $pnl } { $quote }.
exit-placed = Selling { $qty } { $base } at market.
exit-fill = Sold { $qty } { $base } at { $price } { $quote }.
exit-failed = The { $base } market sell did not complete. The position is protected by a new stop.
unprotected = { $base } IS UNPROTECTED: neither a stop nor a market sell could be placed. Act on the exchange now.
exit-reason-manual = requested by user { $user }
exit-reason-signal = Edge70 exit signal
exit-reason-stop-hit = the stop was hit
exit-reason-unprotectable = the stop could not be placed
position-closed = { $base } closed: { $pnl } { $quote } ({ $pct }), fees included.
position-closed-details = Bought at { $entry }, sold at { $exit }, quantity { $qty }. Fees { $fees } { $quote }. Held { $held }.
position-closed-reason = Why: { $reason }.

## Strategy signals

signal-long = EDGE70 LONG ⬆ { $base }: new 60-day high above { $level } (close { $price }).
signal-short = EDGE70 SHORT ⬇ { $base }: new 22-day low below { $level } (close { $price }).
signal-possible = Possible signal: the earlier trend is unknown, so check the chart manually.
signal-candle = Daily candle of { $date }.
signal-auto-long = Auto-trade is on: entering.
signal-auto-short = Auto-trade is on: exiting the position if there is one.
signal-hint-long = To buy: /enter { $base }
signal-hint-short = If you hold it, to sell: /exit { $base }

## /list, /status, /balance

positions-none = No open positions.
positions-header =
    { $count ->
        [one] { $count } open position:
       *[other] { $count } open positions:
    }
position-line = { $base }: { $qty } at { $entry }, now { $price } ({ $pct }, { $pnl } { $quote })
position-line-no-price = { $base }: { $qty } at { $entry }, no current price
position-stop = stop { $stop }, opened { $date }
position-no-stop = no stop on the exchange, opened { $date }
status-title = Status
status-trading-active = Trading: active, new entries allowed.
status-trading-paused = Trading: paused, no new entries.
status-stream-up = Exchange stream: connected.
status-stream-down = Exchange stream: disconnected.
status-breaker-closed = Circuit breaker: closed.
status-breaker-open = Circuit breaker: OPEN ({ $reason }).
status-counts = Open positions: { $positions }. Open orders: { $orders }. Symbols watched: { $symbols }.
status-auto-on = Auto-trade: on, signals trade by themselves.
status-auto-off = Auto-trade: off, signals are alerts only.
balances-none = No balances.
balances-header = Balances:
balance-line = { $asset }: { $total } (≈ { $value } { $quote })
balance-line-no-value = { $asset }: { $total } (no price)
balances-total = Portfolio value: { $value } { $quote }

## Trading state and safety

paused = Trading paused: no new entries. Exits and stops keep working. Use /resume to continue.
resumed = Trading resumed: new entries are allowed.
order-outcome-unknown = The outcome of order { $id } ({ $base }) is unknown. Asking the exchange; the order will not be sent again.
breaker-opened = Circuit breaker open: { $reason }. No new orders until it closes; stops stay on the exchange.
breaker-closed = Circuit breaker closed: trading is back to normal.
rate-limit-halt = Binance's request limit was hit: Bert sends no requests until { $until }. Stops already on the exchange keep working; entries, exits and stop moves wait.
rate-limit-banned = Binance has banned this IP for too many requests: Bert sends no requests until { $until }. Stops already on the exchange keep working; entries, exits and stop moves wait.
breaker-reason-stream-down = the exchange stream is down
breaker-reason-request-failures =
    { $count ->
        [one] { $count } exchange request failed
       *[other] { $count } exchange requests failed in a row
    }
breaker-reason-reconciliation = reconciliation with the exchange failed

## Console

console-unavailable = /{ $command } is not available in the console.
console-quit-hint = Type quit to leave.

## Reconciliation and lifecycle

refusal-not-reconciled = Bert is still checking the exchange after a restart. Try again in a moment.
reconcile-order-changed = Reconciliation: order { $id } ({ $base }) is { $status } on the exchange. Bert had missed that and has caught up.
reconcile-unknown-order = Reconciliation: order { $id } on { $base } rests on the exchange, but Bert has no record of it. Check it on Binance.
reconcile-balance-short = Reconciliation: Bert's { $base } position is { $position }, but the account holds { $held }. Was some sold outside Bert?
started =
    { $count ->
        [0] Bert started. No open positions.
        [one] Bert started with { $count } open position.
       *[other] Bert started with { $count } open positions.
    }
stopping = Bert is shutting down. Open positions stay protected by their stops on the exchange.

## ----- Issue 6: performance report, /performance, /chart, /alerts (keep this block at the end) -----

performance-title =
    { $count ->
        [one] Performance: { $count } open position
       *[other] Performance: { $count } open positions
    }
performance-title-none = Performance: no open positions
performance-line = { $base }: { $pct } since entry ({ $entry } → { $price }), P&L { $pnl } { $quote }
performance-stop = stop { $stop }, { $distance } below the price
performance-stop-no-price = stop { $stop }
performance-no-stop = no stop on the exchange
performance-unrealized = Unrealized P&L: { $pnl } { $quote }, fees included.
performance-portfolio = Portfolio value: { $value } { $quote } ({ $change } { $quote }, { $pct } since { $since }).
stats-none = No closed trades yet. Statistics appear once the first position is closed.
stats-title =
    { $count ->
        [one] Closed trades: { $count }
       *[other] Closed trades: { $count }
    }
stats-wins = Wins { $wins }, losses { $losses }, win rate { $rate }.
stats-pnl = P&L { $total } { $quote }, on average { $avg } { $quote } per trade, fees included.
stats-fees = Fees paid: { $fees } { $quote }.
stats-best = Best: { $base } { $pnl } { $quote } ({ $pct }), closed { $date }.
stats-worst = Worst: { $base } { $pnl } { $quote } ({ $pct }), closed { $date }.
stats-drawdown = Maximum drawdown: { $amount } { $quote } ({ $pct }).
stats-drawdown-amount = Maximum drawdown: { $amount } { $quote }.
stats-months = By month:
stats-month =
    { $trades ->
        [one] { $month }: { $trades } trade, { $wins } won ({ $rate }), { $pnl } { $quote }
       *[other] { $month }: { $trades } trades, { $wins } won ({ $rate }), { $pnl } { $quote }
    }
stats-unavailable = The trade history cannot be read right now. Try again in a minute.
chart-title = Bert: equity
chart-caption = Equity from closed trades, fees included (▲ entries, ● exits). Portfolio now: { $value } { $quote }.
chart-caption-empty = No closed trades yet: the curve fills in as positions close.
chart-failed = The chart could not be drawn. Try again later.
alerts-title = Alerts in this chat (tap a button to switch):
alerts-name-fills = Fills
alerts-name-signals = Signals
alerts-name-performance = Performance
alerts-name-warnings = Warnings
alerts-desc-fills = entries, fills, stops, exits and closed positions
alerts-desc-signals = Edge70 breakouts and breakdowns
alerts-desc-performance = the periodic report of open positions and the portfolio
alerts-desc-warnings = safety alerts, reconciliation, start and stop
alerts-line-on = { $name }: on ({ $description })
alerts-line-off = { $name }: off ({ $description })
alerts-footer = Replies to commands always arrive, and so do alerts about a position left without its stop, even with warnings muted.
alerts-switched-on = { $name }: on
alerts-switched-off = { $name }: off
alerts-not-allowed = Only traders and viewers can change this chat's alerts.
## ---- Issue 8: moving a stop, portfolio warnings, signal buttons (keep this block at the end) ----

stop-preview-title = Move the stop of { $base }?
stop-preview-move = Stop: { $old } → { $stop } { $quote }.
stop-preview-sell = If it triggers, it sells { $qty } { $base } at no less than { $limit } { $quote }.
stop-preview-price = Current price: { $price } { $quote }.
stop-preview-pnl = Result if the stop fills at its trigger: { $pnl } { $quote }, fees so far included.
stop-moved = Stop moved for { $qty } { $base }: from { $old } to { $stop }. It sells at no less than { $limit } { $quote }.
stop-move-failed-kept = The stop of { $base } was not moved. The old stop at { $old } { $quote } is still in place.
stop-move-failed-restoring = The exchange cancelled the old stop of { $base } but refused the new one. Placing the old stop at { $old } { $quote } again now.
stop-move-failed-gone = The stop of { $base } was not moved: the old stop at { $old } { $quote } is no longer on the exchange. Bert is checking whether it filled.
stop-restored = The old stop of { $base } is back for { $qty }: it triggers at { $stop } and sells at no less than { $limit } { $quote }.
refusal-stop-not-below-price = A stop at { $stop } is not below the current price of { $base } ({ $price } { $quote }): it would sell at once. Choose a lower price.
refusal-no-stop-to-move = { $base } has no working stop on the exchange to move right now (one is being placed). Try again in a moment.
warning-bnb-low = BNB for fees is running low: { $free } BNB, worth { $value } { $quote } (the warning is below { $min } { $quote }). Without BNB, fees are paid at the full rate.
warning-bnb-ok = BNB for fees is back above the limit: { $free } BNB, worth { $value } { $quote }.
warning-unexplained =
    { $count ->
        [one] A free balance worth more than { $min } { $quote } that no open position explains:
       *[other] Free balances worth more than { $min } { $quote } that no open position explains:
    }
warning-unexplained-line = • { $asset }: { $qty } (about { $value } { $quote })
warning-unexplained-cleared = No unexplained free balances any more.
signal-button-enter = Enter { $base }
signal-button-expired = This signal has expired: its daily candle is more than a day old.
signal-button-traders-only = Only traders can enter from a signal.

## ---- Console views and text alert switches (console /performance, /chart, /alerts) ----

alerts-usage = Switch a category with /alerts CATEGORY on or /alerts CATEGORY off. Categories: { $categories }.
console-alerts-title = Alerts in this chat:
console-alerts-unavailable = The alert settings cannot be read right now.
console-chart-saved = Chart saved to { $path }
