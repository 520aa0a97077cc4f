# Сообщения Bert, русский. Ключи и переменные те же, что в locales/en/bert.ftl.
# Числа приходят уже отформатированными строками; числами приходят только счётчики для
# выбора формы множественного числа ($count, $days, $max): one (1, 21), few (2–4, 22–24),
# many (0, 5–20, 25–30), other (дроби).

## Общие части

days =
    { $days ->
        [0] меньше дня
        [one] { $days } день
        [few] { $days } дня
        [many] { $days } дней
       *[other] { $days } дня
    }
arg-symbol = СИМВОЛ
arg-price = ЦЕНА
arg-code = КОД

## /start, /help

intro = Я Bert, торговый помощник для спотового рынка Binance. Я слежу за пробоями по стратегии Edge70 на дневных свечах, рассчитываю размер каждой позиции по риску и защищаю каждую стоп-ордером на бирже.
help-header = Доступные вам команды:
help-footer = Символ можно писать как btc, BTC или BTCUSDT.
help-stranger = Пока вы не можете смотреть и открывать позиции. Отправьте /id и попросите владельца добавить ваш id.
cmd-start = кто я и что вы можете сделать
cmd-help = этот список команд
cmd-id = ваш id и id этого чата
cmd-enter = купить позицию, размер по правилам риска
cmd-exit = продать всю позицию по рынку
cmd-stop = перенести стоп позиции на новую цену
cmd-list = открытые позиции с прибылью и стопами
cmd-status = соединение, аварийный выключатель и режим торговли
cmd-balance = балансы и стоимость портфеля
cmd-performance = статистика закрытых сделок
cmd-chart = график капитала картинкой
cmd-pause = остановить новые входы (выходы и стопы работают)
cmd-resume = снова разрешить новые входы
cmd-lang = сменить язык этого чата
cmd-alerts = какие оповещения получает этот чат

## /id, доступ, /lang

id-reply = Ваш id: { $user }, id этого чата: { $chat }.
id-reply-anonymous = Это сообщение отправлено от имени группы или канала, поэтому у него нет id пользователя. Id этого чата: { $chat }.
not-authorized = Нет доступа. Ваш id: { $user }.
not-authorized-anonymous = Сообщения от имени группы или канала не могут получить доступ. Отправьте команду от своего аккаунта.
viewer-refused = Это могут делать только трейдеры. У вас доступ только на чтение.
lang-set = Язык: русский.
lang-current = Язык: русский. Доступны: { $list }. Сменить: /lang КОД, например /lang en.
lang-unknown = Я не знаю языка «{ $code }». Доступны: { $list }.

## Ошибки команд

error-not-a-command = Команды начинаются с косой черты. Список команд: /help.
error-other-bot = Эта команда адресована другому боту.
error-unknown = Я не знаю команды /{ $name }. Список команд: /help.
error-missing-symbol = Какой символ? Например: /{ $command } BTC
error-bad-symbol = «{ $input }» — это не символ. Напишите актив (BTC) или пару (BTCUSDT).
error-missing-price = Какая цена? Например: /stop BTC 41000
error-bad-price = «{ $input }» не подходит как цена. Напишите положительное число с точкой для дробной части, например 41000 или 0.00001234.
error-too-many-args = Слишком много слов после /{ $command }. Формат: { $usage }
error-too-long = Это сообщение слишком длинное для команды.

## Подтверждения (кнопки)

button-confirm = Подтвердить
button-cancel = Отмена
confirm-expired = Время на подтверждение истекло. Отправьте команду ещё раз.
confirm-not-yours = Подтвердить может только тот, кто отправил команду.
confirm-cancelled = Отменено. Ничего не сделано.

## Отказы

refusal-paused = Торговля на паузе, новых входов нет. Чтобы разрешить их, отправьте /resume.
refusal-breaker-open = Сработал аварийный выключатель: новых ордеров не будет, пока связь с биржей не восстановится. Подробнее: /status.
refusal-already-in-position = У вас уже есть { $base }. Сначала отправьте /exit { $base }.
refusal-no-position = Открытой позиции по { $base } нет.
refusal-busy = Ордер по { $base } уже выполняется. Дождитесь его завершения.
refusal-unknown-symbol = На бирже нет пары { $pair }.
refusal-no-price = Цены { $base } пока нет. Попробуйте чуть позже.
refusal-max-open-positions =
    { $max ->
        [one] Достигнут предел: { $max } открытая позиция.
        [few] Достигнут предел: { $max } открытые позиции.
        [many] Достигнут предел: { $max } открытых позиций.
       *[other] Достигнут предел открытых позиций: { $max }.
    }
refusal-portfolio-risk-full = Открытые позиции уже рискуют { $max } портфеля, это максимум.
refusal-no-free-balance = Нет свободных { $asset } для покупки.
refusal-below-minimum = Ордер стоил бы { $value }, это меньше минимума биржи { $min }.
refusal-filters = Правила биржи не пропускают ордер: { $detail }
refusal-no-portfolio = Стоимость портфеля пока неизвестна (биржа ещё не прислала балансы). Попробуйте чуть позже.

## Предпросмотр и размещение входа

entry-preview-title = Войти в { $base }?
entry-preview-buy = Купить { $qty } { $base } по цене не выше { $limit } { $quote } (последняя цена { $reference }).
entry-preview-value = Стоимость: до { $value } { $quote }.
entry-preview-stop = Стоп: { $stop } { $quote }.
entry-preview-risk = Риск: { $risk } { $quote }, { $risk_pct } портфеля ({ $portfolio } { $quote }).
entry-preview-bound = Размер ограничен: { $bound }.
bound-risk = риск на сделку
bound-max-position = максимальный размер позиции
bound-free-balance = свободный баланс
bound-portfolio-risk = предел риска портфеля
entry-placed = Вход размещён: покупаем { $qty } { $base } по цене не выше { $limit } { $quote }.
entry-reason-manual = По запросу пользователя { $user }.
entry-reason-signal = По сигналу Edge70.
entry-fill-full = Куплено { $qty } { $base } по { $price } { $quote }. Вход исполнен: { $filled } { $base }, средняя цена { $avg }.
entry-fill-partial = Куплено { $qty } { $base } по { $price } { $quote }. Исполнено пока { $filled } из { $ordered } { $base }, средняя цена { $avg }.
fill-fee = Комиссия: { $fee } { $asset }.
entry-failed = Вход в { $base } не удался, ничего не куплено.
reason-line = Причина: { $reason }

## Стопы и выходы

stop-placed = Стоп для { $qty } { $base } выставлен: срабатывает на { $stop } и продаёт не дешевле { $limit } { $quote }.
stop-refused = Биржа отклонила стоп по { $base }. Вместо этого продаём позицию по рынку.
stop-lost = Стоп по { $base } отменён или истёк не по воле Bert. Выставляем новый.
stop-vanished = Биржа больше не знает стоп по { $base }: позиция осталась без защиты. Выставляем новый стоп.
stop-fills-pending = Стоп по { $base } завершился на бирже, но что он продал, пока прочитать не удаётся. Bert не выставит новый стоп и ничего не продаст, пока не узнает. Проверьте позицию на Binance.
stop-fill = Сработал стоп: продано { $qty } { $base } по { $price } { $quote }.
exit-preview-title = Выйти из { $base }?
exit-preview-sell = Продать { $qty } { $base } по рынку.
exit-preview-price = Последняя цена: { $price } { $quote }.
exit-preview-no-price = Текущая цена неизвестна.
exit-preview-pnl = Результат на сейчас: { $pnl } { $quote }.
exit-placed = Продаём { $qty } { $base } по рынку.
exit-fill = Продано { $qty } { $base } по { $price } { $quote }.
exit-failed = Продажа { $base } по рынку не завершилась. Позицию защищает новый стоп.
unprotected = { $base } БЕЗ ЗАЩИТЫ: не удалось выставить ни стоп, ни рыночную продажу. Срочно действуйте на бирже.
exit-reason-manual = по запросу пользователя { $user }
exit-reason-signal = сигнал Edge70 на выход
exit-reason-stop-hit = сработал стоп
exit-reason-unprotectable = не удалось выставить стоп
position-closed = Позиция { $base } закрыта: { $pnl } { $quote } ({ $pct }) с учётом комиссий.
position-closed-details = Куплено по { $entry }, продано по { $exit }, количество { $qty }. Комиссии { $fees } { $quote }. В позиции: { $held }.
position-closed-reason = Почему: { $reason }.

## Сигналы стратегии

signal-long = EDGE70 LONG ⬆ { $base }: новый 60-дневный максимум выше { $level } (закрытие { $price }).
signal-short = EDGE70 SHORT ⬇ { $base }: новый 22-дневный минимум ниже { $level } (закрытие { $price }).
signal-possible = Возможный сигнал: прежний тренд неизвестен, проверьте график вручную.
signal-candle = Дневная свеча за { $date }.
signal-auto-long = Автоторговля включена: входим.
signal-auto-short = Автоторговля включена: выходим из позиции, если она есть.
signal-hint-long = Чтобы купить: /enter { $base }
signal-hint-short = Если держите и хотите продать: /exit { $base }

## /list, /status, /balance

positions-none = Открытых позиций нет.
positions-header =
    { $count ->
        [one] { $count } открытая позиция:
        [few] { $count } открытые позиции:
        [many] { $count } открытых позиций:
       *[other] Открытых позиций: { $count }
    }
position-line = { $base }: { $qty } по { $entry }, сейчас { $price } ({ $pct }, { $pnl } { $quote })
position-line-no-price = { $base }: { $qty } по { $entry }, текущей цены нет
position-stop = стоп { $stop }, открыта { $date }
position-no-stop = на бирже нет стопа, открыта { $date }
status-title = Состояние
status-trading-active = Торговля: активна, новые входы разрешены.
status-trading-paused = Торговля: на паузе, новых входов нет.
status-stream-up = Поток биржи: подключён.
status-stream-down = Поток биржи: отключён.
status-breaker-closed = Аварийный выключатель: в норме.
status-breaker-open = Аварийный выключатель: СРАБОТАЛ ({ $reason }).
status-counts = Открытых позиций: { $positions }. Открытых ордеров: { $orders }. Отслеживаемых символов: { $symbols }.
status-auto-on = Автоторговля: включена, сигналы торгуют сами.
status-auto-off = Автоторговля: выключена, сигналы только оповещают.
balances-none = Балансов нет.
balances-header = Балансы:
balance-line = { $asset }: { $total } (≈ { $value } { $quote })
balance-line-no-value = { $asset }: { $total } (цены нет)
balances-total = Стоимость портфеля: { $value } { $quote }

## Режим торговли и безопасность

paused = Торговля на паузе: новых входов нет. Выходы и стопы работают. Продолжить: /resume.
resumed = Торговля возобновлена: новые входы разрешены.
order-outcome-unknown = Результат ордера { $id } ({ $base }) неизвестен. Спрашиваем биржу; повторно ордер отправлен не будет.
breaker-opened = Сработал аварийный выключатель: { $reason }. Новых ордеров не будет, пока он не вернётся в норму; стопы остаются на бирже.
breaker-closed = Аварийный выключатель в норме: торговля идёт как обычно.
rate-limit-halt = Достигнут лимит запросов Binance: Bert не отправляет запросы до { $until }. Стопы на бирже продолжают работать; входы, выходы и перенос стопов ждут.
rate-limit-banned = Binance заблокировал этот IP за слишком частые запросы: Bert не отправляет запросы до { $until }. Стопы на бирже продолжают работать; входы, выходы и перенос стопов ждут.
breaker-reason-stream-down = поток биржи отключён
breaker-reason-request-failures =
    { $count ->
        [one] { $count } запрос к бирже не удался
        [few] { $count } запроса к бирже подряд не удались
        [many] { $count } запросов к бирже подряд не удались
       *[other] не удались запросы к бирже: { $count }
    }
breaker-reason-reconciliation = не удалась сверка с биржей

## Консоль

console-unavailable = Команда /{ $command } недоступна в консоли.
console-quit-hint = Чтобы выйти, наберите quit.

## Reconciliation and lifecycle

refusal-not-reconciled = После перезапуска Bert ещё сверяется с биржей. Попробуйте через минуту.
reconcile-order-changed = Сверка: ордер { $id } ({ $base }) на бирже в статусе { $status }. Bert это пропустил и теперь учёл.
reconcile-unknown-order = Сверка: ордер { $id } по { $base } стоит на бирже, но у Bert нет о нём записи. Проверьте его на Binance.
reconcile-balance-short = Сверка: позиция Bert по { $base } — { $position }, а на счёте { $held }. Часть продана в обход Bert?
started =
    { $count ->
        [0] Bert запущен. Открытых позиций нет.
        [one] Bert запущен, открыта { $count } позиция.
        [few] Bert запущен, открыто { $count } позиции.
       *[other] Bert запущен, открыто { $count } позиций.
    }
stopping = Bert останавливается. Открытые позиции остаются защищены стопами на бирже.

## ----- Issue 6: performance report, /performance, /chart, /alerts (keep this block at the end) -----

performance-title =
    { $count ->
        [one] Результаты: { $count } открытая позиция
        [few] Результаты: { $count } открытые позиции
        [many] Результаты: { $count } открытых позиций
       *[other] Результаты: открытых позиций { $count }
    }
performance-title-none = Результаты: открытых позиций нет
performance-line = { $base }: { $pct } с момента входа ({ $entry } → { $price }), P&L { $pnl } { $quote }
performance-stop = стоп { $stop }, на { $distance } ниже цены
performance-stop-no-price = стоп { $stop }
performance-no-stop = на бирже нет стопа
performance-unrealized = Нереализованный P&L: { $pnl } { $quote } с учётом комиссий.
performance-portfolio = Стоимость портфеля: { $value } { $quote } ({ $change } { $quote }, { $pct } с { $since }).
stats-none = Закрытых сделок пока нет. Статистика появится после закрытия первой позиции.
stats-title =
    { $count ->
        [one] Закрыта { $count } сделка
        [few] Закрыто { $count } сделки
        [many] Закрыто { $count } сделок
       *[other] Закрыто сделок: { $count }
    }
stats-wins = Прибыльных { $wins }, убыточных { $losses }, доля прибыльных { $rate }.
stats-pnl = P&L { $total } { $quote }, в среднем { $avg } { $quote } на сделку, с учётом комиссий.
stats-fees = Уплачено комиссий: { $fees } { $quote }.
stats-best = Лучшая: { $base } { $pnl } { $quote } ({ $pct }), закрыта { $date }.
stats-worst = Худшая: { $base } { $pnl } { $quote } ({ $pct }), закрыта { $date }.
stats-drawdown = Максимальная просадка: { $amount } { $quote } ({ $pct }).
stats-drawdown-amount = Максимальная просадка: { $amount } { $quote }.
stats-months = По месяцам:
stats-month =
    { $trades ->
        [one] { $month }: { $trades } сделка, прибыльных { $wins } ({ $rate }), { $pnl } { $quote }
        [few] { $month }: { $trades } сделки, прибыльных { $wins } ({ $rate }), { $pnl } { $quote }
        [many] { $month }: { $trades } сделок, прибыльных { $wins } ({ $rate }), { $pnl } { $quote }
       *[other] { $month }: сделок { $trades }, прибыльных { $wins } ({ $rate }), { $pnl } { $quote }
    }
stats-unavailable = История сделок сейчас недоступна. Попробуйте через минуту.
chart-title = Bert: капитал
chart-caption = Капитал по закрытым сделкам с учётом комиссий (▲ входы, ● выходы). Портфель сейчас: { $value } { $quote }.
chart-caption-empty = Закрытых сделок пока нет: кривая появится по мере закрытия позиций.
chart-failed = Не удалось построить график. Попробуйте позже.
alerts-title = Уведомления в этом чате (нажмите кнопку, чтобы переключить):
alerts-name-fills = Сделки
alerts-name-signals = Сигналы
alerts-name-performance = Результаты
alerts-name-warnings = Предупреждения
alerts-desc-fills = входы, исполнения, стопы, выходы и закрытые позиции
alerts-desc-signals = пробои Edge70 вверх и вниз
alerts-desc-performance = регулярный отчёт об открытых позициях и портфеле
alerts-desc-warnings = безопасность, сверка с биржей, запуск и остановка
alerts-line-on = { $name }: вкл. ({ $description })
alerts-line-off = { $name }: выкл. ({ $description })
alerts-footer = Ответы на команды приходят всегда, как и тревоги о позиции, оставшейся без стопа, даже если предупреждения отключены.
alerts-switched-on = { $name }: вкл.
alerts-switched-off = { $name }: выкл.
alerts-not-allowed = Менять уведомления чата могут только трейдеры и наблюдатели.
## ---- Issue 8: moving a stop, portfolio warnings, signal buttons (keep this block at the end) ----

stop-preview-title = Переместить стоп { $base }?
stop-preview-move = Стоп: { $old } → { $stop } { $quote }.
stop-preview-sell = При срабатывании продаст { $qty } { $base } не дешевле { $limit } { $quote }.
stop-preview-price = Текущая цена: { $price } { $quote }.
stop-preview-pnl = Результат, если стоп исполнится по цене срабатывания: { $pnl } { $quote } с учётом уплаченных комиссий.
stop-moved = Стоп для { $qty } { $base } перемещён: с { $old } на { $stop }. Продаст не дешевле { $limit } { $quote }.
stop-move-failed-kept = Стоп { $base } не перемещён. Прежний стоп на { $old } { $quote } остаётся на месте.
stop-move-failed-restoring = Биржа отменила прежний стоп { $base }, но отклонила новый. Прежний стоп на { $old } { $quote } выставляется снова.
stop-move-failed-gone = Стоп { $base } не перемещён: прежнего стопа на { $old } { $quote } уже нет на бирже. Bert проверяет, не исполнился ли он.
stop-restored = Прежний стоп { $base } восстановлен для { $qty }: срабатывает на { $stop } и продаёт не дешевле { $limit } { $quote }.
refusal-stop-not-below-price = Стоп на { $stop } не ниже текущей цены { $base } ({ $price } { $quote }): он сработал бы сразу. Выберите цену ниже.
refusal-no-stop-to-move = У { $base } сейчас нет действующего стопа на бирже (он выставляется). Попробуйте чуть позже.
warning-bnb-low = Заканчивается BNB для комиссий: { $free } BNB на { $value } { $quote } (порог { $min } { $quote }). Без BNB комиссии платятся по полной ставке.
warning-bnb-ok = BNB для комиссий снова выше порога: { $free } BNB на { $value } { $quote }.
warning-unexplained =
    { $count ->
        [one] Свободный остаток дороже { $min } { $quote }, который не объясняется открытыми позициями:
       *[other] Свободные остатки дороже { $min } { $quote }, которые не объясняются открытыми позициями:
    }
warning-unexplained-line = • { $asset }: { $qty } (около { $value } { $quote })
warning-unexplained-cleared = Необъяснённых свободных остатков больше нет.
signal-button-enter = Войти в { $base }
signal-button-expired = Сигнал устарел: его дневной свече больше суток.
signal-button-traders-only = Входить по сигналу могут только трейдеры.

## ---- Console views and text alert switches (console /performance, /chart, /alerts) ----

alerts-usage = Переключите категорию: /alerts КАТЕГОРИЯ on или /alerts КАТЕГОРИЯ off. Категории: { $categories }.
console-alerts-title = Оповещения в этом чате:
console-alerts-unavailable = Настройки оповещений сейчас не удаётся прочитать.
console-chart-saved = График сохранён: { $path }
